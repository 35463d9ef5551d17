"""The journal in PostgreSQL: one journal that runners on several machines share.

The same tables, statements and claims as the SQLite journal
(:mod:`importer.targets.journal`); what differs is said here: the
connection (psycopg 3), the clock (the server's), the row lock a claim takes
(``SELECT ... FOR UPDATE`` in a transaction, where SQLite locks the file),
and the journal's identity (its stored id: a dropped or replaced database
stops the run). The address's password never appears in a message.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from importer.errors import JournalError
from importer.targets.journal import Journal


def safe_url(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


_SCHEMA_LOCK = 0x766E696D  # "vnim": the advisory lock of the journal's schema


class PostgresJournal(Journal):
    _now = "extract(epoch from clock_timestamp())::double precision"
    _greatest = "GREATEST"
    _for_update = " FOR UPDATE"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise JournalError(
                "a journal in PostgreSQL needs psycopg: pip install 'vnimport[postgres]'"
            ) from None
        self.path = safe_url(url)
        self._lock = threading.Lock()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._identity = None
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise JournalError(
                f"cannot open the journal at {self.path}: {_first_line(exc)}"
            ) from None
        if read_only:
            self.id = self._meta("journal_id") or ""
            return
        with self._transaction():
            self.id = self._settle_schema()

    def _settle_schema(self) -> str:
        # Runners on several machines may open a new journal at the same
        # moment: one of them creates the tables while the others wait.
        self._x("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
        return super()._settle_schema()

    def _x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        sql = sql.replace("{now}", self._now).replace("{greatest}", self._greatest)
        return self._db.execute(sql.replace("?", "%s"), params)

    def _tables(self) -> set[str]:
        rows = self._x(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
        return {r[0] for r in rows}

    def _ddl(self, statement: str) -> str:
        return statement.replace(" REAL", " DOUBLE PRECISION")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    def check_identity(self) -> None:
        try:
            found = self._meta("journal_id")
        except Exception:  # the database or its tables are gone
            found = None
        if found != self.id:
            raise self._lost("was dropped, emptied or replaced")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
