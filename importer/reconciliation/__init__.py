"""Reconcile: what a run sent, read back from Visma and compared
(``vnimport reconcile RUN``).

- :mod:`importer.reconciliation.compare`: :func:`~importer.reconciliation.compare.reconcile`,
  the read-back in list pages narrowed to the run, and the comparison;
- :mod:`importer.reconciliation.facts`: each type's read-back facts (its schema's
  ``x-reconcile``) and how two values compare;
- :mod:`importer.reconciliation.workbook`: the reconciliation workbook.
"""
