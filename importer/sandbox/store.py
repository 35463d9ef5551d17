"""The sandbox's state in SQLite: in memory by default, or a file that
survives a restart. One connection behind one lock: every request is a
few short statements, and SQLite serializes writers anyway."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, number TEXT NOT NULL,
    body TEXT NOT NULL, modified REAL NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, number)
);
CREATE TABLE IF NOT EXISTS series (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, next INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind)
);
CREATE TABLE IF NOT EXISTS background (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, client TEXT NOT NULL,
    state TEXT NOT NULL, received REAL NOT NULL
);
"""


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, tenant: str, kind: str, number: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM documents WHERE tenant=? AND kind=? AND number=?",
                (tenant, kind, number),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(
        self, db: sqlite3.Connection, tenant: str, kind: str, number: str, doc: dict[str, Any]
    ) -> None:
        """Insert or replace, inside a transaction."""
        seq = db.execute(
            "SELECT seq FROM documents WHERE tenant=? AND kind=? AND number=?",
            (tenant, kind, number),
        ).fetchone()
        if seq is None:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM documents").fetchone()
        db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (tenant, kind, number, json.dumps(doc, ensure_ascii=False), time.time(), seq[0]),
        )

    def exists(self, db: sqlite3.Connection, tenant: str, kind: str, number: str) -> bool:
        return (
            db.execute(
                "SELECT 1 FROM documents WHERE tenant=? AND kind=? AND number=?",
                (tenant, kind, number),
            ).fetchone()
            is not None
        )

    def next_number(self, db: sqlite3.Connection, tenant: str, kind: str, start: int) -> int:
        row = db.execute(
            "SELECT next FROM series WHERE tenant=? AND kind=?", (tenant, kind)
        ).fetchone()
        value = row[0] if row else start
        db.execute("INSERT OR REPLACE INTO series VALUES (?, ?, ?)", (tenant, kind, value + 1))
        return int(value)

    def all(self, tenant: str, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM documents WHERE tenant=? AND kind=? ORDER BY seq",
                (tenant, kind),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def count(self, tenant: str, kind: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM documents WHERE tenant=? AND kind=?", (tenant, kind)
            ).fetchone()
        return int(row[0])

    def save_background(self, bg_id: str, tenant: str, client: str, state: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO background VALUES (?, ?, ?, ?, ?)",
                (bg_id, tenant, client, json.dumps(state), time.time()),
            )

    def background(self, bg_id: str) -> tuple[str, str, dict[str, Any], float] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT tenant, client, state, received FROM background WHERE id=?", (bg_id,)
            ).fetchone()
        return (row[0], row[1], json.loads(row[2]), row[3]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
