"""Undo: a run's documents taken back out of Visma (``vnimport undo RUN``).

- :mod:`importer.undo.run`: :func:`~importer.undo.run.undo_run`, the walk
  over the run's documents, newest first, journaled step by step;
- :mod:`importer.undo.rules`: how each type is taken back (its schema's
  ``x-undo``), checked when the type loads;
- :mod:`importer.undo.calls`: the calls to Visma an undo makes;
- :mod:`importer.undo.restore`: an updated document's request body put
  back together from the copy the journal kept;
- :mod:`importer.undo.report`: the result of each document, and the report
  files.

The package imports nothing itself: a type's schema is checked against
:mod:`~importer.undo.rules` without loading the rest.
"""
