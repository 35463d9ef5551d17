"""The sandbox's state in SQLite: in memory by default, or a file that
survives a restart. One connection behind one lock: every request is a
few short statements, and SQLite serializes writers anyway.

Beside each document, ``doc_index`` keeps what its list filters compare
(:func:`importer.sandbox.documents.index_entries`), so that a filtered list
is found in SQL and only its page is read and parsed, however many documents
there are."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from importer.sandbox import documents

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, number TEXT NOT NULL,
    body TEXT NOT NULL, modified REAL NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, number)
);
CREATE INDEX IF NOT EXISTS documents_by_seq ON documents (seq);
CREATE INDEX IF NOT EXISTS documents_in_order ON documents (tenant, kind, seq);
CREATE TABLE IF NOT EXISTS series (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, next INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind)
);
CREATE TABLE IF NOT EXISTS background (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, client TEXT NOT NULL,
    state TEXT NOT NULL, received REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# What the list filters compare, a row per (document, filter, value); the
# document's seq beside, so that a page is chosen from the index alone.
_INDEX_SCHEMA = """
DROP TABLE IF EXISTS doc_index;
CREATE TABLE doc_index (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, number TEXT NOT NULL,
    name TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE INDEX doc_index_by_value ON doc_index (tenant, kind, name, value, seq, number);
CREATE INDEX doc_index_by_doc ON doc_index (tenant, kind, number);
"""

# documents.OPERATORS in SQL, on doc_index.value
_SQL_OPS = {
    "=": "value = ?",
    "contains": "instr(value, ?) > 0",
    ">": "value > ?",
    ">=": "value >= ?",
    "<": "value < ?",
    "<=": "value <= ?",
}


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        if self._db.execute("PRAGMA user_version").fetchone()[0] != documents.INDEX_VERSION:
            self._reindex()

    def _reindex(self) -> None:
        """Index every document again (a file from before the index, or from
        an older one)."""
        self._db.executescript(_INDEX_SCHEMA)
        with self.transaction() as db:
            rows = db.execute("SELECT tenant, kind, number, body, seq FROM documents").fetchall()
            for tenant, kind, number, body, seq in rows:
                self._index(db, tenant, kind, number, json.loads(body), seq)
            db.execute(f"PRAGMA user_version = {int(documents.INDEX_VERSION)}")

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
        self._index(db, tenant, kind, number, doc, seq[0])

    def _index(
        self,
        db: sqlite3.Connection,
        tenant: str,
        kind: str,
        number: str,
        doc: dict[str, Any],
        seq: int,
    ) -> None:
        db.execute(
            "DELETE FROM doc_index WHERE tenant=? AND kind=? AND number=?", (tenant, kind, number)
        )
        found = documents.KINDS.get(kind)
        if found is not None:
            db.executemany(
                "INSERT INTO doc_index VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (tenant, kind, number, name, value, seq)
                    for name, value in documents.index_entries(found, doc)
                ],
            )

    def delete(self, db: sqlite3.Connection, tenant: str, kind: str, number: str) -> None:
        """Remove a document and its index entries, inside a transaction
        (its number is not given again: the series goes on)."""
        for table in ("documents", "doc_index"):
            db.execute(
                f"DELETE FROM {table} WHERE tenant=? AND kind=? AND number=?",
                (tenant, kind, number),
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

    def page(
        self,
        tenant: str,
        kind: str,
        conditions: Sequence[tuple[str, str, str]],
        offset: int,
        limit: int,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many documents pass every condition, those of one page), in
        the order they were created. ``conditions`` are
        :func:`importer.sandbox.documents.conditions`. With conditions, the
        page is chosen from ``doc_index`` alone (its covering index), so the
        cost follows the matches, not the documents stored, and only the
        page's bodies are read (CROSS JOIN keeps that order of the join)."""
        with self._lock:
            if not conditions:
                count = self._db.execute(
                    "SELECT COUNT(*) FROM documents WHERE tenant=? AND kind=?", (tenant, kind)
                ).fetchone()[0]
                rows = self._db.execute(
                    "SELECT body FROM documents WHERE tenant=? AND kind=?"
                    " ORDER BY seq LIMIT ? OFFSET ?",
                    (tenant, kind, limit, offset),
                ).fetchall()
                return int(count), [json.loads(r[0]) for r in rows]
            passing = " INTERSECT ".join(
                "SELECT seq, number FROM doc_index WHERE tenant=? AND kind=? AND name=?"
                f" AND {_SQL_OPS[op]}"
                for _, op, _ in conditions
            )
            args: list[Any] = [
                a for name, _, value in conditions for a in (tenant, kind, name, value)
            ]
            count = self._db.execute(f"SELECT COUNT(*) FROM ({passing})", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT d.body FROM ({passing} ORDER BY seq LIMIT ? OFFSET ?) AS p"
                " CROSS JOIN documents AS d"
                " ON d.tenant=? AND d.kind=? AND d.number=p.number ORDER BY p.seq",
                [*args, limit, offset, tenant, kind],
            ).fetchall()
        return int(count), [json.loads(r[0]) for r in rows]

    def count(self, tenant: str, kind: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM documents WHERE tenant=? AND kind=?", (tenant, kind)
            ).fetchone()
        return int(row[0])

    def meta(self, key: str) -> str | None:
        """A value the state keeps about itself (e.g. which company a tenant has)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        """Inside a transaction."""
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def save_background(self, bg_id: str, tenant: str, client: str, state: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO background VALUES (?, ?, ?, ?, ?)",
                (bg_id, tenant, client, json.dumps(state), time.time()),
            )

    def update_background(self, bg_id: str, state: dict[str, Any]) -> None:
        """A background request's new state (its received time stays)."""
        with self._lock:
            self._db.execute("UPDATE background SET state=? WHERE id=?", (json.dumps(state), bg_id))

    def background(self, bg_id: str) -> tuple[str, str, dict[str, Any], float] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT tenant, client, state, received FROM background WHERE id=?", (bg_id,)
            ).fetchone()
        return (row[0], row[1], json.loads(row[2]), row[3]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
