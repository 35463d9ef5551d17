"""The database the web app's records sit on: a SQLite file, or PostgreSQL
(a ``postgresql://`` address, with psycopg 3), with one set of statements.

The statements are written once, in SQLite's words with ``?`` placeholders;
what differs is said here:

- each call opens its own connection and closes it (the request threads and
  the run threads never share one);
- ``?`` becomes psycopg's ``%s`` (a ``?`` inside quotes stays), ``%`` is
  doubled; ``{for_update}`` is ``FOR UPDATE`` in PostgreSQL, nothing in
  SQLite, whose ``BEGIN IMMEDIATE`` already holds the whole file;
- rows are read by column name (``row["status"]``) or position, on both;
- :meth:`Database.transaction` is one transaction for several statements
  (a claim): SQLite's ``BEGIN IMMEDIATE``, a PostgreSQL transaction;
- a duplicate key is :class:`UniqueViolation`, any other failure
  :class:`DatabaseError`, on both;
- :meth:`Database.create_schema` takes ``CREATE ... IF NOT EXISTS``
  statements (``REAL`` is PostgreSQL's ``DOUBLE PRECISION``, ``BLOB`` its
  ``BYTEA``, ``INTEGER PRIMARY KEY AUTOINCREMENT`` an identity column) in one
  transaction, under an advisory lock in PostgreSQL: servers that start
  together create the tables once;
- every table and index is named ``web_...``: the web app's tables can live
  in the journal's database without meeting the journal's (``runs``).

The address's password never appears in a message or a ``repr``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from importer.targets.postgres import passwords, safe_url

__all__ = [
    "PREFIX",
    "Database",
    "DatabaseError",
    "Result",
    "Row",
    "Transaction",
    "UniqueViolation",
    "is_address",
]

PREFIX = "web_"  # every table and index of the web app's
_SCHEMA_LOCK = 0x766E7762  # "vnwb": the advisory lock of the web app's schema
_SQLITE_UNIQUE = {1555, 2067}  # SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE


class DatabaseError(Exception):
    """The database failed: cannot be opened, a statement refused. The
    message names the database without its password."""


class UniqueViolation(DatabaseError):
    """An insert or update met a unique key (primary key or unique index)."""


class Row(Protocol):
    """A row: ``row["name"]`` or ``row[0]``; ``keys()`` its columns."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


@dataclass(frozen=True)
class Result:
    """What a statement did: the rows it returned (all read before its
    connection closed) and how many rows it changed."""

    rows: list[Row]
    rowcount: int

    def one(self) -> Row | None:
        return self.rows[0] if self.rows else None

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


def is_address(spec: str | Path) -> bool:
    """Whether ``spec`` is a PostgreSQL address rather than a SQLite file."""
    return str(spec).startswith(("postgresql://", "postgres://"))


class Transaction:
    """Statements on one connection, in one transaction (see
    :meth:`Database.transaction`)."""

    def __init__(self, database: Database, connection: Any) -> None:
        self._database = database
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        return self._database._run(self._connection, sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.execute(sql, params).rows

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self.execute(sql, params).one()


class Database:
    """A SQLite file (``spec`` a path, created with its folder) or a
    PostgreSQL database (``spec`` a ``postgresql://`` address).

    A PostgreSQL database is not reached here: :meth:`create_schema`,
    usually the first call, says whether it can be. A SQLite file is
    created here, in write-ahead mode."""

    def __init__(self, spec: str | Path) -> None:
        text = str(spec)
        self.postgres = is_address(text)
        self.where = safe_url(text) if self.postgres else text  # for messages
        self._spec = text
        if self.postgres:
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise DatabaseError(
                    f"a database in PostgreSQL ({self.where}) needs psycopg: "
                    "pip install 'vnimport[postgres]'"
                ) from None
        else:
            Path(text).parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                # WAL: readers do not wait for a writer (a run writing its
                # status while pages are read); kept in the file once set.
                self._run(db, "PRAGMA journal_mode=WAL")

    def __repr__(self) -> str:
        return f"Database({self.where!r})"

    # ------------------------------------------------------------ statements

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """One statement, in a transaction of its own, on a connection of its own."""
        with self._connect() as db:
            return self._run(db, sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.execute(sql, params).rows

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self.execute(sql, params).one()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Several statements as one: committed when the block ends, rolled
        back when it raises. In SQLite the whole file is held from the
        start (``BEGIN IMMEDIATE``), so a read then a write decides between
        two callers; in PostgreSQL a row read to be changed is locked with
        ``{for_update}`` (or the statement that changes it decides, as an
        ``UPDATE ... WHERE status = 'queued'`` does).

        A failed statement ends the transaction in PostgreSQL: catch
        :class:`UniqueViolation` outside the block, not inside it (or use
        ``INSERT ... ON CONFLICT DO NOTHING`` and its ``rowcount``)."""
        with self._connect() as db:
            if self.postgres:
                import psycopg

                try:
                    with db.transaction():
                        yield Transaction(self, db)
                except psycopg.Error as exc:  # the commit's (a statement's are ours)
                    raise self._translate(exc) from None
            else:
                self._run(db, "BEGIN IMMEDIATE")
                try:
                    yield Transaction(self, db)
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
                self._run(db, "COMMIT")

    # ---------------------------------------------------------------- schema

    def create_schema(self, script: str) -> None:
        """Run ``script``'s ``CREATE TABLE/INDEX IF NOT EXISTS`` statements
        (``;`` between them, ``--`` comments) in one transaction; every name
        must begin with ``web_``."""
        statements = _statements(script)
        for statement in statements:
            name = _created_name(statement)
            if name is not None and not name.lower().startswith(PREFIX):
                raise ValueError(f"the web app's tables and indexes are named {PREFIX}...: {name}")
        with self.transaction() as tx:
            if self.postgres:
                # Servers on several machines may start at the same moment:
                # one creates the tables while the others wait.
                tx.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            for statement in statements:
                tx.execute(self._ddl(statement))

    def tables(self) -> set[str]:
        """The names of the tables there are (all of them, not only the web app's)."""
        if self.postgres:
            sql = (
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {str(r[0]) for r in self.query(sql)}

    def json_text(self, column: str, key: str) -> str:
        """The SQL of ``column``'s (JSON text) member ``key``: NULL when it
        has none."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", column) or not re.fullmatch(
            r"[A-Za-z_][A-Za-z0-9_]*", key
        ):
            raise ValueError(f"not a column and a key: {column!r}, {key!r}")
        if self.postgres:
            return f"(({column})::jsonb ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    # ------------------------------------------------------------- internals

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        if self.postgres:
            import psycopg

            try:
                db: Any = psycopg.connect(
                    self._spec, autocommit=True, connect_timeout=10, row_factory=_pg_rows
                )
            except Exception as exc:
                raise DatabaseError(
                    f"cannot open the web app's database at {self.where}: {self._message(exc)}"
                ) from None
        else:
            try:
                db = sqlite3.connect(self._spec, timeout=30.0, isolation_level=None)
            except sqlite3.Error as exc:
                raise DatabaseError(
                    f"cannot open the web app's database at {self.where}: {self._message(exc)}"
                ) from None
            db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    def _run(self, db: Any, sql: str, params: Sequence[Any] = ()) -> Result:
        if self.postgres:
            sql = _psycopg_sql(sql.replace("{for_update}", " FOR UPDATE"))
        else:
            sql = sql.replace("{for_update}", "")
        try:
            cursor = db.execute(sql, tuple(params))
            rows = cursor.fetchall() if cursor.description is not None else []
            return Result(list(rows), cursor.rowcount)
        except Exception as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: BaseException) -> BaseException:
        """A database's own exception as ours; anything else as it is."""
        if isinstance(exc, DatabaseError):
            return exc
        if self.postgres:
            import psycopg

            if isinstance(exc, psycopg.errors.UniqueViolation):
                return UniqueViolation(f"{self.where}: {self._message(exc)}")
            if isinstance(exc, psycopg.Error):
                return DatabaseError(f"{self.where}: {self._message(exc)}")
            return exc
        if isinstance(exc, sqlite3.IntegrityError) and (
            getattr(exc, "sqlite_errorcode", None) in _SQLITE_UNIQUE
            or str(exc).startswith("UNIQUE constraint failed")
        ):
            return UniqueViolation(f"{self.where}: {exc}")
        if isinstance(exc, sqlite3.Error):
            return DatabaseError(f"{self.where}: {exc}")
        return exc

    def _message(self, exc: BaseException) -> str:
        """The exception's first line, the password blotted out (libpq may
        quote a piece of a malformed address)."""
        lines = str(exc).strip().splitlines()
        text = lines[0] if lines else type(exc).__name__
        if self.postgres:
            for password in passwords(self._spec):
                text = text.replace(password, "***")
        return text

    def _ddl(self, statement: str) -> str:
        if not self.postgres:
            return statement
        statement = re.sub(
            r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            statement,
            flags=re.IGNORECASE,
        )
        statement = re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement, flags=re.IGNORECASE)
        return re.sub(r"\bBLOB\b", "BYTEA", statement, flags=re.IGNORECASE)


# ------------------------------------------------------------------ helpers


class _PgRow:
    """A psycopg row as :class:`sqlite3.Row` is read: by name or position;
    a name twice (a join's ``*``): the first."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: Mapping[str, int], values: Sequence[Any]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            return self._values[self._names[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values, strict=False))!r})"


def _pg_rows(cursor: Any) -> Any:
    """psycopg's row factory for :class:`_PgRow`."""
    names: dict[str, int] = {}
    for index, column in enumerate(cursor.description or ()):
        names.setdefault(column.name, index)

    def make(values: Sequence[Any]) -> _PgRow:
        return _PgRow(names, values)

    return make


def _psycopg_sql(sql: str) -> str:
    """``?`` as ``%s`` outside quotes, ``%`` as ``%%``."""
    out = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


def _statements(script: str) -> list[str]:
    """The statements of a schema script: ``--`` comments dropped (they may
    hold no quote), split at ``;``."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


_CREATED = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?([A-Za-z0-9_]+)",
    re.IGNORECASE,
)


def _created_name(statement: str) -> str | None:
    found = _CREATED.match(statement)
    return found.group(1) if found else None
