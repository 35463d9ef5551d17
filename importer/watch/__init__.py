"""The folder watcher (``vnimport watch ROOT``): nightly file-drop imports,
unattended, safe to re-run, loud when something fails or nothing ran.

- :mod:`importer.watch.outcome`: what became of one dropped file, as the
  runner and the notifications share it.
"""
