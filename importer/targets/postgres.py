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
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from importer.errors import JournalError
from importer.targets.journal import Journal


def safe_url(url: str) -> str:
    """``url`` without its password, for messages: in its user part, or
    as ``?password=`` (libpq takes both), as written and decoded."""
    parts = urlsplit(url)
    text = url
    if parts.password is not None:
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        text = urlunsplit(parts._replace(netloc=netloc))
    return safe_text(text, url)


def safe_text(text: str, address: str) -> str:
    """``text`` (a driver's message, which may quote the address) without
    ``address``'s password."""
    for password in sorted(passwords(address), key=len, reverse=True):
        text = text.replace(password, "***")
    return text


def passwords(address: str) -> set[str]:
    """The address's password, as written and decoded: in its user part,
    or as ``?password=``."""
    parts = urlsplit(address)
    try:
        found = {parts.password or ""}
    except ValueError:
        found = set()
    found.update(re.findall(r"(?:^|&)password=([^&]*)", parts.query))  # as written
    found.update(parse_qs(parts.query).get("password", []))  # decoded
    found |= {unquote(p) for p in found}
    return {p for p in found if p}


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
                f"cannot open the journal at {self.path}: {safe_text(_first_line(exc), url)}"
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


# ------------------------------------------------------------ advisory locks


def advisory_key(namespace: str, text: str) -> int:
    """A PostgreSQL advisory lock's key: a signed 64-bit number of
    ``namespace`` and ``text`` (the watcher's root, a company)."""
    import hashlib

    digest = hashlib.sha256(f"{namespace}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def company_key(target: str) -> int:
    """The advisory lock of one company: ``target`` is
    :attr:`importer.settings.Connection.target` (the API's address and the
    tenant), never a target's name: two names for one company share it."""
    return advisory_key("vnimport-company", target)


def try_advisory_lock(url: str, key: int, holder: str) -> tuple[Any, str]:
    """Take the session-level advisory lock ``key`` in the database at
    ``url`` on a connection of its own, named ``holder``
    (``application_name``, what others are told holds it). ``(connection,
    "")`` when taken: it is held until the connection closes (a killed
    process's goes with its session); ``(None, who)`` when another session
    holds it, ``who`` the name that session gave. The watcher's lock, the
    company lock of every run on a PostgreSQL journal and the queue's
    workers all take their locks here."""
    try:
        import psycopg
    except ImportError:
        raise JournalError(
            "a journal in PostgreSQL needs psycopg: pip install 'vnimport[postgres]'"
        ) from None
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name=holder[:63])
    except psycopg.Error as exc:
        raise JournalError(f"cannot take a lock in {safe_url(url)}: {_first_line(exc)}") from None
    try:
        row = db.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if row and row[0]:
            return db, ""
        who = _holder(db, key)
    except psycopg.Error as exc:
        db.close()
        raise JournalError(f"cannot take a lock in {safe_url(url)}: {_first_line(exc)}") from None
    db.close()
    return None, who


def _holder(db: Any, key: int) -> str:
    """The ``application_name`` of the session that holds advisory lock
    ``key`` (a bigint key is classid = its high, objid = its low 32 bits)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = db.execute(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid::bigint = %s AND l.objid::bigint = %s LIMIT 1",
        (unsigned >> 32, unsigned & 0xFFFFFFFF),
    ).fetchone()
    return str(row[0]) if row and row[0] else "another session"


class CompanyBusy(JournalError):
    """Another run or queued job is importing into the company."""

    code = "company-busy"


@contextmanager
def company_lock(
    url: str,
    target: str,
    holder: str,
    *,
    wait: float | None = 0.0,
    stop: threading.Event | None = None,
    waiting: Any = None,
    poll: float = 1.0,
) -> Iterator[None]:
    """Hold the company ``target``'s advisory lock in the journal at ``url``
    while the block runs: one run per company at a time, whichever machine,
    queued job or manual ``vnimport run``. ``wait``: seconds to wait for it
    (``None``: until it is free or ``stop`` is set); when it cannot be had,
    :class:`CompanyBusy` names who holds it. ``waiting(who)`` is called
    once when the lock is held by someone else and this run waits."""
    import time

    key = company_key(target)
    deadline = None if wait is None else time.monotonic() + wait
    told = False
    while True:
        db, who = try_advisory_lock(url, key, holder)
        if db is not None:
            break
        out_of_time = deadline is not None and time.monotonic() >= deadline
        if out_of_time or (stop is not None and stop.is_set()):
            raise CompanyBusy(
                f"the company {target} is busy: {who} is importing into it (one run per "
                "company at a time, whichever machine; `vnimport jobs list` shows the "
                "queued jobs); run again when it is done"
            )
        if not told and waiting is not None:
            waiting(who)
            told = True
        if stop is not None:
            stop.wait(poll)
        else:
            time.sleep(poll)
    try:
        yield
    finally:
        from contextlib import suppress

        with suppress(Exception):
            db.close()  # the session's lock goes with it
