"""The web app's own records: users, batches (an upload checked for one
company) and runs (a batch imported), in one SQLite file in the web app's
data folder, beside the journal (``JOURNAL_DIR/web/web.sqlite`` unless
``--data`` says otherwise).

Each call opens its own connection, so the request threads and the run
threads never share one. A batch is imported once: :meth:`Store.claim_run`
inserts the run under a unique batch id, so a double click, a refreshed POST
or a second session gets the run the first one made.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ActionRecord", "BatchRecord", "RunRecord", "Store", "User"]

ROLES = ("own", "company", "admin")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password TEXT NOT NULL,          -- an argon2 hash
    token TEXT NOT NULL DEFAULT '',  -- sha256 of the API token
    role TEXT NOT NULL,
    targets TEXT NOT NULL,           -- JSON list; empty: the default target only
    created REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_token ON users(token) WHERE token != '';
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    target TEXT NOT NULL,
    doctype TEXT NOT NULL,
    filename TEXT NOT NULL,          -- the uploader's name for it, shown, never a path
    stored TEXT NOT NULL,            -- the generated file name in uploads/
    created REAL NOT NULL,
    summary TEXT NOT NULL            -- JSON: the check's counts and problem rows
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,   -- one run per batch
    owner TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,            -- queued, running, finished, failed, stopped, interrupted
    created REAL NOT NULL,
    journal_run TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '{}'
);
"""
# ----- run actions (importer/web/history.py): reconcile and undo of a run
_SCHEMA += """
CREATE TABLE IF NOT EXISTS run_actions (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,            -- the web run
    journal_run TEXT NOT NULL,       -- the journal's run it acts on
    kind TEXT NOT NULL,              -- reconcile, undo-preview, undo
    owner TEXT NOT NULL,
    status TEXT NOT NULL,            -- queued, running, finished, failed, interrupted
    created REAL NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}'
);
-- one of each kind at a time for a journal run: a second press gets the first
CREATE UNIQUE INDEX IF NOT EXISTS run_actions_live
    ON run_actions(journal_run, kind) WHERE status IN ('queued', 'running');
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


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.row_factory = sqlite3.Row
            with db:  # one transaction: committed, or rolled back on error
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------- users

    def add_user(self, name: str, password_hash: str, role: str, targets: list[str]) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO users (name, password, role, targets, created) VALUES (?,?,?,?,?)",
                (name, password_hash, role, json.dumps(targets), time.time()),
            )

    def set_token(self, name: str, token_hash: str) -> bool:
        with self._db() as db:
            cur = db.execute("UPDATE users SET token = ? WHERE name = ?", (token_hash, name))
            return cur.rowcount == 1

    def set_password(self, name: str, password_hash: str) -> None:
        with self._db() as db:
            db.execute("UPDATE users SET password = ? WHERE name = ?", (password_hash, name))

    def password_hash(self, name: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT password FROM users WHERE name = ?", (name,)).fetchone()
        return str(row["password"]) if row else None

    def user(self, name: str) -> User | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return _user(row) if row else None

    def user_by_token(self, token_hash: str) -> User | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM users WHERE token = ?", (token_hash,)).fetchone()
        return _user(row) if row else None

    def users(self) -> list[User]:
        with self._db() as db:
            return [_user(r) for r in db.execute("SELECT * FROM users ORDER BY name")]

    # ----------------------------------------------------------- batches

    def add_batch(
        self, owner: str, target: str, doctype: str, filename: str, suffix: str
    ) -> BatchRecord:
        batch_id = uuid.uuid4().hex
        record = BatchRecord(
            batch_id, owner, target, doctype, filename, batch_id + suffix, time.time(), {}
        )
        with self._db() as db:
            db.execute(
                "INSERT INTO batches VALUES (?,?,?,?,?,?,?,?)",
                (batch_id, owner, target, doctype, filename, record.stored, record.created, "{}"),
            )
        return record

    def update_batch(self, batch_id: str, doctype: str, summary: dict[str, Any]) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE batches SET doctype = ?, summary = ? WHERE id = ?",
                (doctype, json.dumps(summary), batch_id),
            )

    def delete_batch(self, batch_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM batches WHERE id = ?", (batch_id,))

    def batch(self, batch_id: str) -> BatchRecord | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return _batch(row) if row else None

    def batches(self, limit: int = 50) -> list[BatchRecord]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM batches ORDER BY created DESC LIMIT ?", (limit,))
            return [_batch(r) for r in rows]

    # -------------------------------------------------------------- runs

    def claim_run(self, batch_id: str, owner: str, mode: str) -> tuple[RunRecord, bool]:
        """The batch's run, and whether this call made it (only then is it
        to be started). The unique batch id decides between two callers."""
        run_id = uuid.uuid4().hex
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO runs (id, batch_id, owner, mode, status, created) "
                "VALUES (?,?,?,?,'queued',?) ON CONFLICT(batch_id) DO NOTHING",
                (run_id, batch_id, owner, mode, time.time()),
            )
            made = cur.rowcount == 1
        run = self.run_of_batch(batch_id)
        assert run is not None
        return run, made

    def set_run(
        self,
        run_id: str,
        status: str,
        *,
        journal_run: str = "",
        summary: dict[str, Any] | None = None,
    ) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE runs SET status = ?, journal_run = ?, summary = ? WHERE id = ?",
                (status, journal_run, json.dumps(summary or {}), run_id),
            )

    def run(self, run_id: str) -> RunRecord | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def run_of_batch(self, batch_id: str) -> RunRecord | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE batch_id = ?", (batch_id,)).fetchone()
        return _run(row) if row else None

    def interrupt_unfinished(self) -> int:
        """At start: a run left queued or running by an earlier process did
        not finish (its documents are in the journal: a new batch of the
        same file sends only what is missing)."""
        with self._db() as db:
            cur = db.execute(
                "UPDATE runs SET status = 'interrupted' WHERE status IN ('queued', 'running')"
            )
            db.execute(
                "UPDATE run_actions SET status = 'interrupted' "
                "WHERE status IN ('queued', 'running')"
            )
            return cur.rowcount

    # ------------------------------------------- resume, history, actions
    # (importer/web/runs.py and importer/web/history.py)

    def claim_resume(self, run_id: str) -> bool:
        """Put an interrupted or stopped run back in the queue; whether this
        call did (two presses of Resume: only the first)."""
        with self._db() as db:
            cur = db.execute(
                "UPDATE runs SET status = 'queued' "
                "WHERE id = ? AND status IN ('interrupted', 'stopped')",
                (run_id,),
            )
            return cur.rowcount == 1

    def set_run_status(self, run_id: str, status: str) -> None:
        """The status alone, the summary kept (a resumed run's earlier attempts)."""
        with self._db() as db:
            db.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))

    def runs_with_batches(self, limit: int = 500) -> list[tuple[RunRecord, BatchRecord]]:
        """The newest runs first, each with its batch."""
        with self._db() as db:
            rows = db.execute(
                "SELECT r.id AS r_id, r.batch_id, r.owner AS r_owner, r.mode, r.status, "
                "r.created AS r_created, r.journal_run, r.summary AS r_summary, b.* "
                "FROM runs r JOIN batches b ON b.id = r.batch_id "
                "ORDER BY r.created DESC LIMIT ?",
                (limit,),
            ).fetchall()
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
        whether this call made it."""
        action_id = uuid.uuid4().hex
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO run_actions (id, run_id, journal_run, kind, owner, status, created) "
                "VALUES (?,?,?,?,?,'queued',?) ON CONFLICT DO NOTHING",
                (action_id, run_id, journal_run, kind, owner, time.time()),
            )
            made = cur.rowcount == 1
            if not made:
                row = db.execute(
                    "SELECT * FROM run_actions WHERE journal_run = ? AND kind = ? "
                    "AND status IN ('queued', 'running')",
                    (journal_run, kind),
                ).fetchone()
                action_id = row["id"]
        action = self.action(action_id)
        assert action is not None
        return action, made

    def set_action(
        self, action_id: str, status: str, summary: dict[str, Any] | None = None
    ) -> None:
        with self._db() as db:
            if summary is None:
                db.execute("UPDATE run_actions SET status = ? WHERE id = ?", (status, action_id))
            else:
                db.execute(
                    "UPDATE run_actions SET status = ?, summary = ? WHERE id = ?",
                    (status, json.dumps(summary), action_id),
                )

    def action(self, action_id: str) -> ActionRecord | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM run_actions WHERE id = ?", (action_id,)).fetchone()
        return _action(row) if row else None

    def actions_of(self, run_id: str) -> list[ActionRecord]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM run_actions WHERE run_id = ? ORDER BY created DESC", (run_id,)
            ).fetchall()
        return [_action(r) for r in rows]

    # ------------------------------------ platform: user admin, clean-up

    def set_user(self, name: str, role: str, targets: list[str]) -> bool:
        """Change a user's role and companies; whether there is such a user."""
        with self._db() as db:
            cur = db.execute(
                "UPDATE users SET role = ?, targets = ? WHERE name = ?",
                (role, json.dumps(targets), name),
            )
            return cur.rowcount == 1

    def batches_before(self, cutoff: float) -> list[BatchRecord]:
        """The batches made before ``cutoff`` whose files are not yet
        deleted (:mod:`importer.web.cleanup` marks them in the summary)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM batches WHERE created < ? "
                "AND json_extract(summary, '$.deleted') IS NULL ORDER BY created",
                (cutoff,),
            )
            return [_batch(r) for r in rows]

    def batch_ids(self) -> set[str]:
        with self._db() as db:
            return {str(r["id"]) for r in db.execute("SELECT id FROM batches")}


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


def _action(row: sqlite3.Row) -> ActionRecord:
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


def _user(row: sqlite3.Row) -> User:
    return User(row["name"], row["role"], tuple(json.loads(row["targets"])))


def _batch(row: sqlite3.Row) -> BatchRecord:
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


def _run(row: sqlite3.Row) -> RunRecord:
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
CREATE TABLE IF NOT EXISTS edits (
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
CREATE INDEX IF NOT EXISTS edits_batch ON edits(batch_id);
"""


class EditStore:
    """The ``edits`` table, in the same SQLite file as :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store._db() as db:
            db.executescript(_EDITS_SCHEMA)

    def add(
        self, batch_id: str, who: str, sheet: str, row: int, col: int, header: str,
        old: str, new: str,
    ) -> None:  # fmt: skip
        with self.store._db() as db:
            db.execute(
                "INSERT INTO edits (batch_id, who, sheet, row, col, header, old, new, created) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (batch_id, who, sheet, row, col, header, old, new, time.time()),
            )

    def of_batch(self, batch_id: str) -> list[dict[str, Any]]:
        """The batch's edits, oldest first: who, sheet, row, column (its
        header), old, new, when (ISO 8601, UTC)."""
        with self.store._db() as db:
            rows = db.execute(
                "SELECT * FROM edits WHERE batch_id = ? ORDER BY id", (batch_id,)
            ).fetchall()
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
