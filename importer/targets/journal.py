"""The journal: what has been sent where, so that nothing is sent twice.

A SQLite file with one entry per target (API + company), document type and
document key: the hash of the request body, the state, Visma's number and
answer. No secret is stored.

Before a run acts on a document it *claims* it: in one transaction it reads
the entry and writes its run id, host, process id and a lease (judged by the
database's clock), which the run renews while it works. A second run that
meets a live claim leaves the document alone; a claim whose process is dead
(same host) or whose lease ran out is taken over, and the entry's state says
what the earlier run got to (``sending``: look the document up before
anything else). A create is written as ``sending`` before it goes out and
settled after, which releases the claim.

The journal records each run (who, where, which file, counts), keeps a
version (an older journal is upgraded in place, a newer one refused) and an
identity, checked before every claim: a journal that disappears, is emptied
or replaced while a run works stops the run before its next request.

:func:`open_journal` opens a SQLite file (the embedded default) or, for a
``postgresql://`` address, a journal in PostgreSQL that runners on several
machines share (:class:`PostgresJournal`, with psycopg 3): the same tables,
the same transactions, the same claims.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.errors import JournalError

DONE = ("created", "updated")
VERSION = 3
LEASE = 120.0  # seconds a claim lives without renewal

# The database's clock, in seconds since the epoch, written {now} in the
# statements below: every judgement of a lease is the database's, not the
# machine of whichever run asks.
_SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"

_TABLES = """
CREATE TABLE IF NOT EXISTS entries (
    target TEXT NOT NULL, doctype TEXT NOT NULL, key TEXT NOT NULL,
    hash TEXT NOT NULL, state TEXT NOT NULL, number TEXT NOT NULL DEFAULT '',
    http_status INTEGER, message TEXT NOT NULL DEFAULT '', updated REAL NOT NULL,
    run_id TEXT NOT NULL DEFAULT '', host TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL DEFAULT 0, lease_until REAL NOT NULL DEFAULT 0,
    pre_image TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (target, doctype, key)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, started REAL NOT NULL, ended REAL,
    run_user TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    file TEXT NOT NULL, sha256 TEXT NOT NULL, doctype TEXT NOT NULL,
    mode TEXT NOT NULL, target TEXT NOT NULL, counts TEXT NOT NULL DEFAULT '{}',
    outcome TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS run_documents (
    run_id TEXT NOT NULL, doctype TEXT NOT NULL, key TEXT NOT NULL,
    seq INTEGER NOT NULL, target TEXT NOT NULL, rows_in_file TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL, number TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL DEFAULT '', pre_image TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL, undo_state TEXT NOT NULL DEFAULT '',
    undo_message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, doctype, key)
);
"""
# Version 1 (vnimport 0.1) had the entries' first nine columns and nothing else;
# version 2 no run_documents (what each run did to each document).
_UPGRADE_1 = [
    "ALTER TABLE entries ADD COLUMN run_id TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE entries ADD COLUMN host TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE entries ADD COLUMN pid INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE entries ADD COLUMN lease_until REAL NOT NULL DEFAULT 0",
    "ALTER TABLE entries ADD COLUMN pre_image TEXT NOT NULL DEFAULT ''",
]
_ENTRY = "hash, state, number, http_status, message"


@dataclass(frozen=True)
class Entry:
    hash: str
    state: str  # claimed, sending, created, updated, failed
    number: str
    http_status: int | None
    message: str


@dataclass(frozen=True)
class Claim:
    """What a claim found: the entry as it was (``None``: nothing known),
    and, when another run holds the document, that run's id."""

    entry: Entry | None
    busy: str = ""  # the run holding it; empty when the claim is ours
    taken_over: str = ""  # the run whose claim we took over (dead or expired)


@dataclass(frozen=True)
class Run:
    id: str
    started: float
    ended: float | None
    user: str
    host: str
    pid: int
    file: str
    sha256: str
    doctype: str
    mode: str
    target: str
    counts: dict[str, int]
    outcome: str


@dataclass(frozen=True)
class RunDocument:
    """What one run did to one document: the register a migration keeps
    (the file's key and rows, Visma's number), and what undo needs (the
    body sent, the ETag Visma gave it, the document as it was before an
    update, and how far undo got)."""

    run_id: str
    doctype: str
    key: str
    seq: int  # the order in which the run came to it
    target: str
    rows: str  # the file's rows, "2-4, 7"
    status: str  # the report's status: created, updated, unchanged, failed ...
    number: str
    code: str
    message: str
    body: Any  # the request body sent (None: not sent)
    etag: str
    pre_image: Any  # the document before this run updated it (None: not updated)
    updated: float
    undo_state: str  # "", or what undo did: deleted, reversed, inactivated, restored, manual
    undo_message: str


_RUN_DOCUMENT = (
    "run_id, doctype, key, seq, target, rows_in_file, status, number, code, message, body, "
    "etag, pre_image, updated, undo_state, undo_message"
)


class Journal:
    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        """``read_only`` opens an existing journal to read it, changing
        nothing (a dry run): no claim, no schema, no WAL files. A file that
        is not a SQLite database is a :class:`JournalError`."""
        try:
            self._open(path, read_only)
        except sqlite3.DatabaseError as exc:
            raise JournalError(
                f"{path} is not a vnimport journal ({exc}): name the journal file, "
                "or a new file for a new journal"
            ) from None

    def _open(self, path: str | Path, read_only: bool) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._identity: tuple[int, int] | None = None
        self._db: Any
        if read_only:
            uri = Path(self.path).resolve().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self.id = self._meta("journal_id") or ""
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        if self.path != ":memory:":
            # WAL with a commit per change: a killed process loses nothing it
            # had written (the OS keeps the file; synchronous=NORMAL is enough
            # for a process crash).
            self._x("PRAGMA journal_mode=WAL")
            self._x("PRAGMA synchronous=NORMAL")
        with self._transaction():
            self.id = self._settle_schema()
        if self.path != ":memory:":
            st = os.stat(self.path)
            self._identity = (st.st_dev, st.st_ino)

    # ------------------------------------------------------------ dialect

    _now = _SQLITE_NOW
    _greatest = "MAX"
    _for_update = ""  # SQLite's BEGIN IMMEDIATE already holds the whole file

    def _x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` placeholders, ``{now}`` the database's clock)."""
        sql = sql.replace("{now}", self._now).replace("{greatest}", self._greatest)
        return self._db.execute(sql, params)

    def _tables(self) -> set[str]:
        rows = self._x("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        return {r[0] for r in rows}

    def _ddl(self, statement: str) -> str:
        return statement

    # ------------------------------------------------------------ schema

    def _settle_schema(self) -> str:
        """Create, upgrade or refuse the schema; the journal's id."""
        tables = self._tables()
        version = 0
        if "meta" in tables:
            found = self._meta("version")
            version = int(found) if found and found.isdigit() else 0
        elif "entries" in tables:
            version = 1
        if version > VERSION:
            raise JournalError(
                f"the journal {self.path} was written by a newer vnimport (journal version "
                f"{version}; this vnimport knows {VERSION}): upgrade vnimport"
            )
        if version == 1:
            for statement in _UPGRADE_1:
                self._x(statement)
        for statement in _TABLES.split(";"):  # CREATE ... IF NOT EXISTS
            if statement.strip():
                self._x(self._ddl(statement))
        self._set_meta("version", str(VERSION))
        journal_id = self._meta("journal_id")
        if not journal_id:
            journal_id = uuid.uuid4().hex
            self._set_meta("journal_id", journal_id)
        if version < VERSION:
            self._set_meta("upgraded_from", str(version))
        return journal_id

    def _set_meta(self, key: str, value: str) -> None:
        self._x(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def _meta(self, key: str) -> str | None:
        if "meta" not in self._tables():
            return None
        row = self._x("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    @property
    def version(self) -> int:
        with self._lock:
            found = self._meta("version")
        return int(found) if found else 1

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taken at once (BEGIN IMMEDIATE): two runs
        cannot both read an entry as unclaimed."""
        self._x("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._x("ROLLBACK")
            raise
        self._x("COMMIT")

    # ------------------------------------------------------------ identity

    def check_identity(self) -> None:
        """Raise :class:`JournalError` when the journal's file is no longer
        the one this run opened: deleted, emptied or replaced."""
        if self._identity is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise self._lost("was deleted") from None
        if (st.st_dev, st.st_ino) != self._identity:
            raise self._lost("was replaced by another file")
        if st.st_size == 0:
            raise self._lost("was emptied")
        try:  # one query per claim: the table is known to be there
            row = self._x("SELECT value FROM meta WHERE key='journal_id'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None or row[0] != self.id:
            raise self._lost("was emptied or overwritten")

    def _lost(self, what: str) -> JournalError:
        return JournalError(
            f"the journal {self.path} {what} while this run was working: nothing more was "
            "sent. What this run sent is in its report; before importing again, make sure "
            "the journal is the one that knows what was sent (a new, empty journal would "
            "send documents again)"
        )

    # ------------------------------------------------------------ entries

    def get(self, target: str, doctype: str, key: str) -> Entry | None:
        with self._lock:
            row = self._x(
                f"SELECT {_ENTRY} FROM entries WHERE target=? AND doctype=? AND key=?",
                (target, doctype, key),
            ).fetchone()
        return _entry(row)

    def claim(
        self, target: str, doctype: str, key: str, run_id: str, *, lease: float = LEASE
    ) -> Claim:
        """Claim a document for ``run_id``, atomically. A live claim of
        another run is left alone (``Claim.busy``); one whose process is dead
        on this host, or whose lease has run out, is taken over."""
        with self._lock:
            self.check_identity()
            with self._transaction():
                # A row to lock, then the row locked: two runs cannot both
                # find the document unclaimed.
                self._x(
                    "INSERT INTO entries (target, doctype, key, hash, state, updated) "
                    "VALUES (?, ?, ?, '', 'claimed', ?) ON CONFLICT DO NOTHING",
                    (target, doctype, key, time.time()),
                )
                row = self._x(
                    f"SELECT {_ENTRY}, run_id, host, pid, lease_until, {{now}} FROM entries "
                    f"WHERE target=? AND doctype=? AND key=?{self._for_update}",
                    (target, doctype, key),
                ).fetchone()
                holder, host, pid, lease_until, now = row[5:]
                taken_over = ""
                if holder and holder != run_id:
                    dead = host == self.host and not _alive(pid)
                    if lease_until > now and not dead:
                        return Claim(_entry(row[:5]), busy=holder)
                    taken_over = holder
                self._x(
                    "UPDATE entries SET run_id=?, host=?, pid=?, lease_until={now} + ? "
                    "WHERE target=? AND doctype=? AND key=?",
                    (run_id, self.host, self.pid, lease, target, doctype, key),
                )
        return Claim(_entry(row[:5]), taken_over=taken_over)

    def release(self, target: str, doctype: str, key: str, run_id: str) -> None:
        """Give a claim up without changing what the entry says."""
        with self._lock:
            self._x(
                "UPDATE entries SET run_id='', lease_until=0 "
                "WHERE target=? AND doctype=? AND key=? AND run_id=?",
                (target, doctype, key, run_id),
            )
            self._x(
                "DELETE FROM entries WHERE target=? AND doctype=? AND key=? AND state='claimed'",
                (target, doctype, key),
            )

    def renew(self, run_id: str, *, lease: float = LEASE) -> None:
        """Extend every claim of ``run_id`` by ``lease`` from now."""
        with self._lock:
            self._x("UPDATE entries SET lease_until={now} + ? WHERE run_id=?", (lease, run_id))

    def write(
        self,
        target: str,
        doctype: str,
        key: str,
        *,
        hash: str,
        state: str,
        number: str = "",
        http_status: int | None = None,
        message: str = "",
        run_id: str = "",
    ) -> None:
        """Record what happened. ``sending`` keeps ``run_id``'s claim (the
        outcome is not known yet); every other state releases it."""
        holder = run_id if state == "sending" else ""
        with self._lock:
            self._x(
                "INSERT INTO entries (target, doctype, key, hash, state, number, http_status, "
                "message, updated, run_id, host, pid, lease_until) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now} + ?) "
                "ON CONFLICT (target, doctype, key) DO UPDATE SET hash=excluded.hash, "
                "state=excluded.state, number=excluded.number, "
                "http_status=excluded.http_status, message=excluded.message, "
                "updated=excluded.updated, run_id=excluded.run_id, host=excluded.host, "
                "pid=excluded.pid, lease_until=CASE WHEN excluded.run_id = '' THEN 0 "
                "ELSE {greatest}(entries.lease_until, excluded.lease_until) END",
                (
                    target,
                    doctype,
                    key,
                    hash,
                    state,
                    number,
                    http_status,
                    message,
                    time.time(),
                    holder,
                    self.host if holder else "",
                    self.pid if holder else 0,
                    LEASE if holder else -1e12,
                ),
            )

    def keep_pre_image(self, target: str, doctype: str, key: str, document: Any) -> None:
        """What the document looked like in Visma before this run changed it
        (an undo restores it)."""
        with self._lock:
            self._x(
                "UPDATE entries SET pre_image=? WHERE target=? AND doctype=? AND key=?",
                (json.dumps(document, ensure_ascii=False), target, doctype, key),
            )

    def pre_image(self, target: str, doctype: str, key: str) -> Any:
        with self._lock:
            row = self._x(
                "SELECT pre_image FROM entries WHERE target=? AND doctype=? AND key=?",
                (target, doctype, key),
            ).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    # ------------------------------------------------------------ runs

    def start_run(
        self, *, file: str, sha256: str, doctype: str, mode: str, target: str, user: str = ""
    ) -> str:
        """Record a run's start; its id. ``user``: who ran it (a web app's
        user); empty: the user of this process."""
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._x(
                "INSERT INTO runs (id, started, run_user, host, pid, file, sha256, doctype, mode, "
                "target) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    time.time(),
                    user or _user(),
                    self.host,
                    self.pid,
                    file,
                    sha256,
                    doctype,
                    mode,
                    target,
                ),
            )
        return run_id

    def end_run(self, run_id: str, counts: Mapping[str, int], outcome: str) -> None:
        """Record a run's end, its counts, and what ended it; its claims go."""
        with self._lock:
            self._x(
                "UPDATE runs SET ended=?, counts=?, outcome=? WHERE id=?",
                (time.time(), json.dumps(dict(counts)), outcome, run_id),
            )
            # A document still "sending" keeps the run's name, its lease gone:
            # the next run takes it over and looks it up first.
            self._x("UPDATE entries SET lease_until=0 WHERE run_id=?", (run_id,))
            self._x("UPDATE entries SET run_id='' WHERE run_id=? AND state!='sending'", (run_id,))
            self._x("DELETE FROM entries WHERE run_id=? AND state='claimed'", (run_id,))

    def runs(self, *, target: str | None = None, limit: int = 100) -> list[Run]:
        query = "SELECT * FROM runs" + (" WHERE target=?" if target else "")
        query += " ORDER BY started DESC LIMIT ?"
        params: tuple[Any, ...] = (target, limit) if target else (limit,)
        with self._lock:
            try:
                rows = self._x(query, params).fetchall()
            except sqlite3.OperationalError:  # a journal from before runs were kept
                return []
        return [_run(row) for row in rows]

    def find_run(self, spec: str, *, target: str | None = None) -> Run | None:
        """The run ``spec`` names: ``last`` (the newest, against ``target``
        when given), its id, or the start of one id; ``None`` when no run or
        more than one matches."""
        if spec == "last":
            found = self.runs(target=target, limit=1)
            return found[0] if found else None
        matches = [r for r in self.runs(target=target, limit=1_000_000) if r.id.startswith(spec)]
        exact = [r for r in matches if r.id == spec]
        if exact:
            return exact[0]
        return matches[0] if len(matches) == 1 else None

    # ------------------------------------------------------------ run documents

    def note(
        self,
        run_id: str,
        target: str,
        doctype: str,
        key: str,
        *,
        status: str,
        rows: str = "",
        number: str = "",
        code: str = "",
        message: str = "",
        body: Any = None,
        etag: str = "",
        pre_image: Any = None,
    ) -> None:
        """Record what run ``run_id`` did to a document (again: the last word
        stands; the body, ETag and pre-image are kept unless given anew)."""
        if not run_id:
            return
        body_text = "" if body is None else json.dumps(body, ensure_ascii=False)
        pre_text = "" if pre_image is None else json.dumps(pre_image, ensure_ascii=False)
        with self._lock:
            self._x(
                f"INSERT INTO run_documents ({_RUN_DOCUMENT}) VALUES (?, ?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM run_documents WHERE run_id=?), "
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '') "
                "ON CONFLICT (run_id, doctype, key) DO UPDATE SET status=excluded.status, "
                "rows_in_file=CASE WHEN excluded.rows_in_file = '' "
                "THEN run_documents.rows_in_file ELSE excluded.rows_in_file END, "
                "number=CASE WHEN excluded.number = '' "
                "THEN run_documents.number ELSE excluded.number END, "
                "code=excluded.code, message=excluded.message, "
                "body=CASE WHEN excluded.body = '' THEN run_documents.body ELSE excluded.body END, "
                "etag=CASE WHEN excluded.etag = '' THEN run_documents.etag ELSE excluded.etag END, "
                "pre_image=CASE WHEN excluded.pre_image = '' "
                "THEN run_documents.pre_image ELSE excluded.pre_image END, "
                "updated=excluded.updated",
                (
                    run_id, doctype, key, run_id, target, rows, status, number, code,
                    message, body_text, etag, pre_text, time.time(),
                ),
            )  # fmt: skip

    def run_documents(self, run_id: str) -> list[RunDocument]:
        """What run ``run_id`` did to each document, in the order it came to them."""
        with self._lock:
            try:
                rows = self._x(
                    f"SELECT {_RUN_DOCUMENT} FROM run_documents WHERE run_id=? ORDER BY seq",
                    (run_id,),
                ).fetchall()
            except sqlite3.OperationalError:  # a read-only journal from before version 3
                return []
        return [_run_document(row) for row in rows]

    def set_undo(self, run_id: str, doctype: str, key: str, state: str, message: str) -> None:
        """Record how far undo got with one document of a run."""
        with self._lock:
            self._x(
                "UPDATE run_documents SET undo_state=?, undo_message=? "
                "WHERE run_id=? AND doctype=? AND key=?",
                (state, message, run_id, doctype, key),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _run(row: Any) -> Run:
    (id_, started, ended, user, host, pid, file, sha, doctype, mode, target, counts, outcome) = row
    return Run(
        id_, started, ended, user, host, pid, file, sha, doctype, mode, target,
        json.loads(counts or "{}"), outcome,
    )  # fmt: skip


def _run_document(row: Any) -> RunDocument:
    values = list(row)
    for at in (10, 12):  # body, pre_image
        values[at] = json.loads(values[at]) if values[at] else None
    return RunDocument(*values)


def _entry(row: Any) -> Entry | None:
    """An entry, or ``None`` when nothing is known (a bare claim)."""
    if row is None or row[1] == "claimed":
        return None
    return Entry(*row)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


_ENTRY_COLUMNS = (
    "target, doctype, key, hash, state, number, http_status, message, updated, "
    "run_id, host, pid, lease_until, pre_image"
)
_RUN_COLUMNS = (
    "id, started, ended, run_user, host, pid, file, sha256, doctype, mode, target, counts, outcome"
)


def copy_journal(source: Journal, destination: Journal) -> tuple[int, int]:
    """Copy every entry and run of ``source`` into ``destination`` (a new
    journal: one that has entries already is refused). (entries, runs)."""
    with destination._lock:
        if destination._x("SELECT COUNT(*) FROM entries").fetchone()[0]:
            raise JournalError(
                f"the journal {destination.path} is not empty; copy into a new journal"
            )
    with source._lock:
        entries = source._x(f"SELECT {_ENTRY_COLUMNS} FROM entries").fetchall()
        try:
            runs = source._x(f"SELECT {_RUN_COLUMNS} FROM runs").fetchall()
        except sqlite3.OperationalError:  # a journal from before runs were kept
            runs = []
        try:
            documents = source._x(f"SELECT {_RUN_DOCUMENT} FROM run_documents").fetchall()
        except sqlite3.OperationalError:  # a journal from before version 3
            documents = []
    marks = ", ".join("?" * 14)
    with destination._lock, destination._transaction():
        for row in entries:
            destination._x(f"INSERT INTO entries ({_ENTRY_COLUMNS}) VALUES ({marks})", row)
        for row in runs:
            destination._x(f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({', '.join('?' * 13)})", row)
        for row in documents:
            destination._x(
                f"INSERT INTO run_documents ({_RUN_DOCUMENT}) VALUES ({', '.join('?' * 16)})", row
            )
    return len(entries), len(runs)


def open_journal(spec: str | Path, *, read_only: bool = False) -> Journal:
    """The journal at ``spec``: a SQLite file (or ``:memory:``), or, for a
    ``postgresql://`` address, a journal in PostgreSQL."""
    text = str(spec)
    if text.startswith(("postgresql://", "postgres://")):
        from importer.targets.postgres import PostgresJournal

        return PostgresJournal(text, read_only=read_only)
    return Journal(text, read_only=read_only)
