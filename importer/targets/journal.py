"""The journal: what has been sent where, so that nothing is sent twice.

A SQLite file with one entry per target (API + company), document type and
document key: the hash of the request body, the state, Visma's number and
answer. A create is written as ``sending`` before it goes out and settled
after, so a run killed in between leaves a trace the next run resolves by
looking the document up before sending anything. No secret is stored.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

DONE = ("created", "updated")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    target TEXT NOT NULL, doctype TEXT NOT NULL, key TEXT NOT NULL,
    hash TEXT NOT NULL, state TEXT NOT NULL, number TEXT NOT NULL DEFAULT '',
    http_status INTEGER, message TEXT NOT NULL DEFAULT '', updated REAL NOT NULL,
    PRIMARY KEY (target, doctype, key)
)
"""


@dataclass(frozen=True)
class Entry:
    hash: str
    state: str  # sending, created, updated, failed
    number: str
    http_status: int | None
    message: str


class Journal:
    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        """``read_only`` opens an existing journal to read it, changing
        nothing (a dry run): no claim, no schema, no WAL files."""
        self.path = str(path)
        self._lock = threading.Lock()
        if read_only:
            uri = Path(self.path).resolve().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            # WAL with a commit per change: a killed process loses nothing it
            # had written (the OS keeps the file; synchronous=NORMAL is enough
            # for a process crash).
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, target: str, doctype: str, key: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT hash, state, number, http_status, message FROM entries "
                "WHERE target=? AND doctype=? AND key=?",
                (target, doctype, key),
            ).fetchone()
        return Entry(*row) if row else None

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
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (target, doctype, key, hash, state, number, http_status, message, time.time()),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
