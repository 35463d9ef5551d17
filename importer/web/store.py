"""The web app's own records: users, batches (an upload checked for one
company), runs (a batch imported), run actions and cell edits, in the
web app's database (:mod:`importer.web.db`): ``[serve] store`` (a
PostgreSQL address), else the default journal's PostgreSQL database when it
is one, else ``web.sqlite`` in the web app's data folder
(:func:`store_spec`). Its tables are named ``web_...`` so that they live
beside the journal's (``runs``, ``entries``, ...) in one database; a
``web.sqlite`` of the names before (``users``, ``batches``, ``runs``, ...)
is renamed once, when it is opened (:func:`_upgrade`).

Each call opens its own connection, so the request threads and the run
threads never share one. A batch is imported once: :meth:`Store.claim_run`
inserts the run under a unique batch id, so a double click, a refreshed POST
or a second session -- on this server or another one on the same
database -- gets the run the first one made.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.web.db import Database, Row, is_address

__all__ = [
    "ActionRecord",
    "BatchRecord",
    "EditStore",
    "LastAdmin",
    "RunRecord",
    "Store",
    "User",
    "store_spec",
]

ROLES = ("own", "company", "admin")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    name TEXT PRIMARY KEY,
    password TEXT NOT NULL,          -- an argon2 hash
    token TEXT NOT NULL DEFAULT '',  -- sha256 of the API token
    role TEXT NOT NULL,
    targets TEXT NOT NULL,           -- JSON list; empty: the default target only
    created REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS web_users_token ON web_users(token) WHERE token != '';
CREATE TABLE IF NOT EXISTS web_batches (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    target TEXT NOT NULL,
    doctype TEXT NOT NULL,
    filename TEXT NOT NULL,          -- the uploader's name for it, shown, never a path
    stored TEXT NOT NULL,            -- the generated file name in uploads/
    created REAL NOT NULL,
    summary TEXT NOT NULL            -- JSON: the check's counts and problem rows
);
CREATE TABLE IF NOT EXISTS web_runs (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,   -- one run per batch
    owner TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,            -- queued, running, finished, failed, stopped, interrupted
    created REAL NOT NULL,
    journal_run TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '{}',
    server TEXT NOT NULL DEFAULT ''  -- the server whose thread runs it (Store.server)
);
"""
# ----- run actions (importer/web/history.py): reconcile and undo of a run
_SCHEMA += """
CREATE TABLE IF NOT EXISTS web_run_actions (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,            -- the web run
    journal_run TEXT NOT NULL,       -- the journal's run it acts on
    kind TEXT NOT NULL,              -- reconcile, undo-preview, undo
    owner TEXT NOT NULL,
    status TEXT NOT NULL,            -- queued, running, finished, failed, interrupted
    created REAL NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    server TEXT NOT NULL DEFAULT ''
);
-- one of each kind at a time for a journal run: a second press gets the first
CREATE UNIQUE INDEX IF NOT EXISTS web_run_actions_live
    ON web_run_actions(journal_run, kind) WHERE status IN ('queued', 'running');
-- when each user last signed out: a session signed in before it is over
CREATE TABLE IF NOT EXISTS web_signouts (
    name TEXT PRIMARY KEY,
    at REAL NOT NULL
);
-- the key that signs session cookies: one for every server on the database
CREATE TABLE IF NOT EXISTS web_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class BatchRecord:
    id: str
    owner: str
    target: str
    doctype: str
    filename: str
    stored: str
    created: float
    summary: dict[str, Any]


@dataclass(frozen=True)
class RunRecord:
    id: str
    batch_id: str
    owner: str
    mode: str
    status: str
    created: float
    journal_run: str
    summary: dict[str, Any]


def store_spec(data: Path, store: str = "", journal: str | None = None) -> str:
    """The web app's database: ``store`` (``[serve] store``) when given,
    else the default journal (``journal``, by default
    :func:`importer.settings.default_journal`) when it is a PostgreSQL
    address, else ``web.sqlite`` in the data folder ``data``."""
    if store:
        return store
    if journal is None:
        from importer.settings import default_journal

        journal = default_journal()
    if is_address(journal):
        return journal
    return str(data / "web.sqlite")


def server_name(data: Path) -> str:
    """This server among those on one database: its machine and its data
    folder (stable across restarts, so a restart finds what it left)."""
    return f"{socket.gethostname()}:{data.resolve()}"[:500]


# The tables of the names before, in a web.sqlite made before they were
# named web_... (the journal's database never had them).
_OLD_TABLES = ("users", "batches", "runs", "run_actions", "edits")
_OLD_INDEXES = ("users_token", "run_actions_live", "edits_batch")


class LastAdmin(Exception):
    """The change would leave the web app without an admin."""


_BATCH_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_BATCH_LOCKS_GUARD = threading.Lock()


class Store:
    """The records in the database ``spec`` (a SQLite file or a
    ``postgresql://`` address; see :func:`store_spec`). ``server``: this
    server's name among those on the database (:func:`server_name`): a run
    it starts is its own, and only its own unfinished runs are marked
    interrupted when it starts again."""

    def __init__(self, spec: str | Path, *, server: str = "") -> None:
        self.db = Database(spec)
        self.server = server or f"{socket.gethostname()}:{os.getpid()}"
        _upgrade(self.db)
        self.db.create_schema(_SCHEMA)

    @property
    def where(self) -> str:
        """The database, for messages: a file, or an address without its password."""
        return self.db.where

    @contextmanager
    def batch_lock(self, batch_id: str) -> Iterator[None]:
        """Held while one change to a batch's files is read, made and
        recorded, so two at once are made one after the other, never one
        over the other: the batch's row locked in PostgreSQL (across
        servers), a lock of this process for a SQLite file (whose servers
        are this one)."""
        if self.db.postgres:
            with self.db.transaction() as tx:
                tx.execute("SELECT id FROM web_batches WHERE id = ?{for_update}", (batch_id,))
                yield
            return
        with _BATCH_LOCKS_GUARD:
            lock = _BATCH_LOCKS.setdefault((self.where, batch_id), threading.Lock())
        with lock:
            yield

    def sign_out(self, name: str, at: float) -> None:
        """``name``'s sessions signed in until ``at`` are over."""
        self.db.execute(
            "INSERT INTO web_signouts (name, at) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET at = excluded.at",
            (name, at),
        )

    def signed_out_at(self, name: str) -> float:
        row = self.db.one("SELECT at FROM web_signouts WHERE name = ?", (name,))
        return float(row["at"]) if row is not None else 0.0

    def secret(self, name: str, first: bytes) -> bytes:
        """The secret ``name`` every server on this database shares; ``first``
        is kept as it when none is kept yet (the first server's wins)."""
        self.db.execute(
            "INSERT INTO web_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, first),
        )
        row = self.db.one("SELECT value FROM web_secrets WHERE name = ?", (name,))
        assert row is not None
        return bytes(row["value"])

    # ------------------------------------------------------------- users

    def add_user(self, name: str, password_hash: str, role: str, targets: list[str]) -> None:
        self.db.execute(
            "INSERT INTO web_users (name, password, role, targets, created) VALUES (?,?,?,?,?)",
            (name, password_hash, role, json.dumps(targets), time.time()),
        )

    def set_token(self, name: str, token_hash: str) -> bool:
        done = self.db.execute("UPDATE web_users SET token = ? WHERE name = ?", (token_hash, name))
        return done.rowcount == 1

    def set_password(self, name: str, password_hash: str) -> None:
        self.db.execute("UPDATE web_users SET password = ? WHERE name = ?", (password_hash, name))

    def password_hash(self, name: str) -> str | None:
        row = self.db.one("SELECT password FROM web_users WHERE name = ?", (name,))
        return str(row["password"]) if row else None

    def user(self, name: str) -> User | None:
        row = self.db.one("SELECT * FROM web_users WHERE name = ?", (name,))
        return _user(row) if row else None

    def user_by_token(self, token_hash: str) -> User | None:
        row = self.db.one("SELECT * FROM web_users WHERE token = ?", (token_hash,))
        return _user(row) if row else None

    def users(self) -> list[User]:
        return [_user(r) for r in self.db.query("SELECT * FROM web_users ORDER BY name")]

    # ----------------------------------------------------------- batches

    def add_batch(
        self, owner: str, target: str, doctype: str, filename: str, suffix: str
    ) -> BatchRecord:
        batch_id = uuid.uuid4().hex
        record = BatchRecord(
            batch_id, owner, target, doctype, filename, batch_id + suffix, time.time(), {}
        )
        self.db.execute(
            "INSERT INTO web_batches (id, owner, target, doctype, filename, stored, created, "
            "summary) VALUES (?,?,?,?,?,?,?,?)",
            (batch_id, owner, target, doctype, filename, record.stored, record.created, "{}"),
        )
        return record

    def update_batch(self, batch_id: str, doctype: str, summary: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE web_batches SET doctype = ?, summary = ? WHERE id = ?",
            (doctype, json.dumps(summary), batch_id),
        )

    def delete_batch(self, batch_id: str) -> None:
        self.db.execute("DELETE FROM web_batches WHERE id = ?", (batch_id,))

    def batch(self, batch_id: str) -> BatchRecord | None:
        row = self.db.one("SELECT * FROM web_batches WHERE id = ?", (batch_id,))
        return _batch(row) if row else None

    def batches(self, limit: int = 50) -> list[BatchRecord]:
        rows = self.db.query("SELECT * FROM web_batches ORDER BY created DESC LIMIT ?", (limit,))
        return [_batch(r) for r in rows]

    # -------------------------------------------------------------- runs

    def claim_run(self, batch_id: str, owner: str, mode: str) -> tuple[RunRecord, bool]:
        """The batch's run, and whether this call made it (only then is it
        to be started). The unique batch id decides between two callers."""
        done = self.db.execute(
            "INSERT INTO web_runs (id, batch_id, owner, mode, status, created, server) "
            "VALUES (?,?,?,?,'queued',?,?) ON CONFLICT (batch_id) DO NOTHING",
            (uuid.uuid4().hex, batch_id, owner, mode, time.time(), self.server),
        )
        run = self.run_of_batch(batch_id)  # a run is never deleted
        assert run is not None
        return run, done.rowcount == 1

    def set_run(
        self,
        run_id: str,
        status: str,
        *,
        journal_run: str = "",
        summary: dict[str, Any] | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE web_runs SET status = ?, journal_run = ?, summary = ? WHERE id = ?",
            (status, journal_run, json.dumps(summary or {}), run_id),
        )

    def run(self, run_id: str) -> RunRecord | None:
        row = self.db.one("SELECT * FROM web_runs WHERE id = ?", (run_id,))
        return _run(row) if row else None

    def run_of_batch(self, batch_id: str) -> RunRecord | None:
        row = self.db.one("SELECT * FROM web_runs WHERE batch_id = ?", (batch_id,))
        return _run(row) if row else None

    def interrupt_unfinished(self) -> int:
        """At start: a run left queued or running by an earlier process of
        this server did not finish (its documents are in the journal: a new
        batch of the same file sends only what is missing). On PostgreSQL,
        another server's runs on the same database are its own: left as
        they are."""
        mine = "status IN ('queued', 'running')"
        params: tuple[str, ...] = ()
        if self.db.postgres:  # a SQLite file is one server's (as it always was)
            mine += " AND server IN (?, '')"
            params = (self.server,)
        with self.db.transaction() as tx:
            done = tx.execute(f"UPDATE web_runs SET status = 'interrupted' WHERE {mine}", params)
            tx.execute(f"UPDATE web_run_actions SET status = 'interrupted' WHERE {mine}", params)
        return done.rowcount

    # ------------------------------------------- resume, history, actions
    # (importer/web/runs.py and importer/web/history.py)

    def claim_resume(self, run_id: str) -> bool:
        """Put an interrupted or stopped run back in the queue, as this
        server's; whether this call did (two presses of Resume: only the first)."""
        done = self.db.execute(
            "UPDATE web_runs SET status = 'queued', server = ? "
            "WHERE id = ? AND status IN ('interrupted', 'stopped')",
            (self.server, run_id),
        )
        return done.rowcount == 1

    def set_run_status(self, run_id: str, status: str) -> None:
        """The status alone, the summary kept (a resumed run's earlier attempts)."""
        self.db.execute("UPDATE web_runs SET status = ? WHERE id = ?", (status, run_id))

    def runs_with_batches(self, limit: int = 500) -> list[tuple[RunRecord, BatchRecord]]:
        """The newest runs first, each with its batch."""
        rows = self.db.query(
            "SELECT r.id AS r_id, r.batch_id, r.owner AS r_owner, r.mode, r.status, "
            "r.created AS r_created, r.journal_run, r.summary AS r_summary, b.* "
            "FROM web_runs r JOIN web_batches b ON b.id = r.batch_id "
            "ORDER BY r.created DESC LIMIT ?",
            (limit,),
        )
        return [
            (
                RunRecord(
                    row["r_id"],
                    row["batch_id"],
                    row["r_owner"],
                    row["mode"],
                    row["status"],
                    row["r_created"],
                    row["journal_run"],
                    json.loads(row["r_summary"]),
                ),
                _batch(row),
            )
            for row in rows
        ]

    def claim_action(
        self, run_id: str, journal_run: str, kind: str, owner: str
    ) -> tuple[ActionRecord, bool]:
        """A new action on ``journal_run``, or the one of its kind under way;
        whether this call made it. When the one under way ends between the
        insert that met it and the read that looks for it, the insert is
        tried again (it then makes a new one)."""
        for _ in range(100):
            action_id = uuid.uuid4().hex
            done = self.db.execute(
                "INSERT INTO web_run_actions "
                "(id, run_id, journal_run, kind, owner, status, created, server) "
                "VALUES (?,?,?,?,?,'queued',?,?) ON CONFLICT DO NOTHING",
                (action_id, run_id, journal_run, kind, owner, time.time(), self.server),
            )
            made = done.rowcount == 1
            if not made:
                row = self.db.one(
                    "SELECT id FROM web_run_actions WHERE journal_run = ? AND kind = ? "
                    "AND status IN ('queued', 'running')",
                    (journal_run, kind),
                )
                if row is None:
                    continue  # it ended meanwhile: this press starts a new one
                action_id = str(row["id"])
            action = self.action(action_id)
            if action is not None:
                return action, made
        raise RuntimeError(f"cannot claim the {kind} of journal run {journal_run}")

    def set_action(
        self, action_id: str, status: str, summary: dict[str, Any] | None = None
    ) -> None:
        if summary is None:
            self.db.execute(
                "UPDATE web_run_actions SET status = ? WHERE id = ?", (status, action_id)
            )
        else:
            self.db.execute(
                "UPDATE web_run_actions SET status = ?, summary = ? WHERE id = ?",
                (status, json.dumps(summary), action_id),
            )

    def action(self, action_id: str) -> ActionRecord | None:
        row = self.db.one("SELECT * FROM web_run_actions WHERE id = ?", (action_id,))
        return _action(row) if row else None

    def actions_of(self, run_id: str) -> list[ActionRecord]:
        rows = self.db.query(
            "SELECT * FROM web_run_actions WHERE run_id = ? ORDER BY created DESC", (run_id,)
        )
        return [_action(r) for r in rows]

    # ------------------------------------ platform: user admin, clean-up

    def set_user(self, name: str, role: str, targets: list[str]) -> bool:
        """Change a user's role and companies; whether there is such a user.
        The last admin stays one (:class:`LastAdmin`): the admins are
        locked while it is decided, so two admins taking each other's role
        at the same moment leave one."""
        with self.db.transaction() as tx:
            admins = [
                r["name"]
                for r in tx.query("SELECT name FROM web_users WHERE role = 'admin'{for_update}")
            ]
            if role != "admin" and admins == [name]:
                raise LastAdmin(name)
            done = tx.execute(
                "UPDATE web_users SET role = ?, targets = ? WHERE name = ?",
                (role, json.dumps(targets), name),
            )
            return done.rowcount == 1

    def batches_before(self, cutoff: float) -> list[BatchRecord]:
        """The batches made before ``cutoff`` whose files are not yet
        deleted (:mod:`importer.web.cleanup` marks them in the summary)."""
        deleted = self.db.json_text("summary", "deleted")
        rows = self.db.query(
            f"SELECT * FROM web_batches WHERE created < ? AND {deleted} IS NULL ORDER BY created",
            (cutoff,),
        )
        return [_batch(r) for r in rows]

    def batch_ids(self) -> set[str]:
        return {str(r["id"]) for r in self.db.query("SELECT id FROM web_batches")}


def _upgrade(db: Database) -> None:
    """A ``web.sqlite`` of the names before: its tables renamed ``web_...``
    (and the runs' and actions' ``server`` column added), in one
    transaction, once; their indexes are made anew under their new names."""
    if db.postgres or "web_batches" in db.tables() or "batches" not in db.tables():
        return
    with db.transaction() as tx:
        names = {str(r[0]) for r in tx.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "web_batches" in names or "batches" not in names:
            return  # another process did it meanwhile
        for index in _OLD_INDEXES:
            tx.execute(f"DROP INDEX IF EXISTS {index}")
        for table in _OLD_TABLES:
            if table in names:
                tx.execute(f"ALTER TABLE {table} RENAME TO web_{table}")
        for table in ("web_runs", "web_run_actions"):
            if table.removeprefix("web_") in names:
                tx.execute(f"ALTER TABLE {table} ADD COLUMN server TEXT NOT NULL DEFAULT ''")


@dataclass(frozen=True)
class ActionRecord:
    """A reconcile, an undo's dry run or an undo of one journal run of a web run."""

    id: str
    run_id: str
    journal_run: str
    kind: str
    owner: str
    status: str
    created: float
    summary: dict[str, Any]


def _action(row: Row) -> ActionRecord:
    return ActionRecord(
        row["id"],
        row["run_id"],
        row["journal_run"],
        row["kind"],
        row["owner"],
        row["status"],
        row["created"],
        json.loads(row["summary"]),
    )


def _user(row: Row) -> User:
    return User(row["name"], row["role"], tuple(json.loads(row["targets"])))


def _batch(row: Row) -> BatchRecord:
    return BatchRecord(
        row["id"],
        row["owner"],
        row["target"],
        row["doctype"],
        row["filename"],
        row["stored"],
        row["created"],
        json.loads(row["summary"]),
    )


def _run(row: Row) -> RunRecord:
    return RunRecord(
        row["id"],
        row["batch_id"],
        row["owner"],
        row["mode"],
        row["status"],
        row["created"],
        row["journal_run"],
        json.loads(row["summary"]),
    )


# ------------------------------------------------------------------ edits
# (importer/web/inbound.py) Cells changed on the check page: who changed
# which cell of a batch's file from what to what, and when; they go with
# the batch's run into its report.

_EDITS_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id TEXT NOT NULL,
    who TEXT NOT NULL,
    sheet TEXT NOT NULL,             -- "" for a csv file
    row INTEGER NOT NULL,            -- as Excel numbers it
    col INTEGER NOT NULL,            -- from 0
    header TEXT NOT NULL,            -- the column's header, as the file has it
    old TEXT NOT NULL,
    new TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS web_edits_batch ON web_edits(batch_id);
"""


class EditStore:
    """The ``web_edits`` table, in the same database as :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.db.create_schema(_EDITS_SCHEMA)

    def add(
        self, batch_id: str, who: str, sheet: str, row: int, col: int, header: str,
        old: str, new: str,
    ) -> None:  # fmt: skip
        self.store.db.execute(
            "INSERT INTO web_edits (batch_id, who, sheet, row, col, header, old, new, created) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (batch_id, who, sheet, row, col, header, old, new, time.time()),
        )

    def of_batch(self, batch_id: str) -> list[dict[str, Any]]:
        """The batch's edits, oldest first: who, sheet, row, column (its
        header), old, new, when (ISO 8601, UTC)."""
        rows = self.store.db.query(
            "SELECT * FROM web_edits WHERE batch_id = ? ORDER BY id", (batch_id,)
        )
        return [
            {
                "who": r["who"],
                "sheet": r["sheet"],
                "row": r["row"],
                "column": r["header"],
                "old": r["old"],
                "new": r["new"],
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["created"])),
            }
            for r in rows
        ]
