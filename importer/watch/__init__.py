"""The folder watcher (``vnimport watch ROOT``): nightly file-drop imports,
unattended, safe to re-run, loud when something fails or nothing ran.

- :mod:`importer.watch.outcome`: what became of one dropped file, as the
  runner and the notifications share it.
- :mod:`importer.watch.config`: the ``[watch]`` table of vnimport.toml.
- :mod:`importer.watch.pickup`: which files of an inbox are complete.
- :mod:`importer.watch.folders`: inbox, processing, done, failed; the moves.
- :mod:`importer.watch.lock`: one watcher per root.
- :mod:`importer.watch.state`: what the watcher remembers between passes.
- :mod:`importer.watch.runner`: a pass, and the watcher's loop.
"""
