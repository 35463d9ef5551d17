"""The exceptions vnimport raises.

Row-level problems (an invalid cell, a conflicting header value) are not
exceptions: they are :class:`importer.issues.RowIssue` values carried to the
report. Exceptions are for what stops a whole run, and every one of them is
fatal (exit code 2)::

    VnimportError               anything vnimport raises on purpose
    ├── FileError               the input cannot be read whole: missing, empty,
    │                           corrupt, encrypted, not a spreadsheet
    ├── ColumnError             the header row cannot be used: a required column
    │                           is missing, two columns mean the same field
    ├── DocTypeError            a document type is unknown, or its schema or
    │                           template is broken
    ├── ConfigError             settings are missing or contradict each other
    ├── VismaError              Visma.net does not answer what a run must know
    │                           before it sends (the lookup of what is there)
    ├── JournalError            the journal cannot be used: from a newer vnimport,
    │                           or deleted, emptied or replaced during a run
    └── AuthError               Visma.net refuses the credentials, the tenant or
                                the client's rights (a 401/403 that persists)

Each carries a message written for the person who has to fix it, and a
stable ``code`` from the catalogue in :mod:`importer.codes`; the CLI prints
``str(error)`` and never a traceback unless ``--debug`` is given.
"""

from __future__ import annotations


class VnimportError(Exception):
    """Base of every error vnimport raises on purpose."""

    code = "error"


class FileError(VnimportError):
    """The input file cannot be read whole."""

    code = "file-error"


class ColumnError(VnimportError):
    """The header row of the input cannot be used for this document type."""

    code = "column-error"


class DocTypeError(VnimportError):
    """A document type is unknown, or its schema or template is broken."""

    code = "doctype-error"


class ConfigError(VnimportError):
    """Settings are missing or contradict each other."""

    code = "config-error"


class AuthError(VnimportError):
    """Visma.net refuses the credentials, the tenant, or the client's rights."""

    code = "auth-error"


class JournalError(VnimportError):
    """The journal cannot be used, or is no longer the one the run opened."""

    code = "journal-error"


class VismaError(VnimportError):
    """Visma.net did not answer a call the run cannot go on without."""

    code = "visma-error"
