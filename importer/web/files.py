"""The files the web app keeps, in its database (:mod:`importer.web.db`):
an upload's bytes, a batch's edited copy, the check's fix-me workbook, a
run's report.xlsx/.csv/.json. A second server on another machine, on the
same PostgreSQL database, sees and serves the same files.

A file is found by its key, a relative path of plain names
(``uploads/1f0c....xlsx``, ``runs/ID/report.json``): letters, digits,
``.``, ``_`` and ``-``, no name beginning with ``.``. It keeps a name (the
one a download is given), its size and when it was stored (the clock's
seconds, which the clean-up compares: :meth:`Files.delete_older_than`).

Whatever reads a file from a path (a run reads its upload) asks for
:meth:`Files.local_path`: the file is written once under the local folder,
at the key, and written again only when the stored file changed (its size
or time differ) -- each machine has its own copy, none is shared.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from importer.web.db import Database, Row

__all__ = ["SCHEMA", "FileInfo", "Files", "StoredFile"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_files (
    key TEXT PRIMARY KEY,            -- uploads/ID.xlsx, runs/ID/report.json ...
    name TEXT NOT NULL,              -- the name a download is given
    bytes BLOB NOT NULL,
    size BIGINT NOT NULL,
    created REAL NOT NULL            -- seconds since the epoch, the server's clock
);
CREATE INDEX IF NOT EXISTS web_files_created ON web_files(created);
"""
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
_MAX_KEY = 400


@dataclass(frozen=True)
class FileInfo:
    key: str
    name: str
    size: int
    created: float


@dataclass(frozen=True)
class StoredFile(FileInfo):
    data: bytes


def check_key(key: str) -> str:
    """``key`` if it is one (see the module), else :class:`ValueError`."""
    if len(key) > _MAX_KEY or not _KEY.fullmatch(key):
        raise ValueError(
            f"not a file key: {key[:80]!r} (a relative path of names of letters, "
            "digits, '.', '_' and '-', none beginning with '.')"
        )
    return key


class Files:
    """The ``web_files`` table of ``db``; ``local`` the folder of this
    machine's copies (:meth:`local_path`), which holds nothing else;
    ``clock`` the time a file is stored at."""

    def __init__(
        self, db: Database, local: Path, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.local = local
        self.clock = clock
        db.create_schema(SCHEMA)

    # ----------------------------------------------------------- store, read

    def put(
        self, key: str, data: bytes, *, name: str = "", created: float | None = None
    ) -> FileInfo:
        """Store ``data`` at ``key``, replacing what was there; ``name``:
        the key's last part unless given; ``created``: the clock's now."""
        check_key(key)
        info = FileInfo(
            key,
            name or key.rsplit("/", 1)[-1],
            len(data),
            self.clock() if created is None else created,
        )
        self.db.execute(
            "INSERT INTO web_files (key, name, bytes, size, created) VALUES (?,?,?,?,?) "
            "ON CONFLICT (key) DO UPDATE SET name = excluded.name, bytes = excluded.bytes, "
            "size = excluded.size, created = excluded.created",
            (key, info.name, bytes(data), info.size, info.created),
        )
        self._forget(key)
        return info

    def put_path(
        self, key: str, path: Path, *, name: str = "", created: float | None = None
    ) -> FileInfo:
        """Store the file at ``path`` (a report just written) at ``key``."""
        return self.put(key, path.read_bytes(), name=name, created=created)

    def get(self, key: str) -> StoredFile | None:
        row = self.db.one(
            "SELECT key, name, size, created, bytes FROM web_files WHERE key = ?",
            (check_key(key),),
        )
        if row is None:
            return None
        return StoredFile(
            row["key"], row["name"], int(row["size"]), float(row["created"]), bytes(row["bytes"])
        )

    def info(self, key: str) -> FileInfo | None:
        """What is known of the file at ``key``, without its bytes."""
        row = self.db.one(
            "SELECT key, name, size, created FROM web_files WHERE key = ?", (check_key(key),)
        )
        return _info(row) if row is not None else None

    def exists(self, key: str) -> bool:
        return self.info(key) is not None

    def listing(self, prefix: str = "") -> list[FileInfo]:
        """The files whose keys begin with ``prefix``, in the order of their keys."""
        where, params = _prefixed(prefix)
        rows = self.db.query(
            f"SELECT key, name, size, created FROM web_files WHERE {where} ORDER BY key", params
        )
        return [_info(r) for r in rows]

    def local_path(self, key: str) -> Path | None:
        """The file at ``key`` as a file of this machine, under ``local``;
        ``None`` when there is none stored (a local copy left is removed)."""
        path = self.local / check_key(key)
        info = self.info(key)
        if info is None:
            self._forget(key)
            return None
        if _is_copy(path, info):
            return path
        stored = self.get(key)
        if stored is None:  # deleted in between
            self._forget(key)
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(stored.data)
            stamp = _ns(stored.created)
            os.utime(temporary, ns=(stamp, stamp))
            os.replace(temporary, path)  # whole or not at all, for a reader in another thread
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return path

    # ---------------------------------------------------------------- delete

    def delete(self, key: str) -> bool:
        """Delete the file at ``key`` (and this machine's copy); whether there was one."""
        done = self.db.execute("DELETE FROM web_files WHERE key = ?", (check_key(key),))
        self._forget(key)
        return done.rowcount > 0

    def delete_prefix(self, prefix: str) -> list[str]:
        """Delete the files whose keys begin with ``prefix`` (not empty:
        ``uploads/ID.``); their keys."""
        if not prefix:
            raise ValueError("delete_prefix needs a prefix")
        return self._delete_where(*_prefixed(prefix))

    def delete_older_than(self, cutoff: float, *, prefix: str = "") -> list[str]:
        """Delete the files stored before ``cutoff`` (the clock's seconds)
        whose keys begin with ``prefix`` (``uploads/``: run reports stay);
        their keys."""
        where, params = _prefixed(prefix)
        return self._delete_where(f"created < ? AND {where}", (float(cutoff), *params))

    def prune_local(self) -> int:
        """Remove this machine's copies of files deleted or changed since
        (another server's clean-up); how many."""
        if not self.local.is_dir():
            return 0
        removed = 0
        for path in sorted(self.local.rglob("*"), reverse=True):
            if path.is_dir() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.rmdir()  # only when empty
                continue
            key = path.relative_to(self.local).as_posix()
            if path.name.startswith("."):  # a copy being written, or cut short
                try:
                    stale = path.lstat().st_mtime < time.time() - 3600
                except OSError:  # written and renamed meanwhile
                    continue
            else:
                info = self.info(key) if _KEY.fullmatch(key) else None
                stale = info is None or not _is_copy(path, info)
            if stale:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # ------------------------------------------------------------- internals

    def _delete_where(self, where: str, params: tuple[object, ...]) -> list[str]:
        with self.db.transaction() as tx:
            keys = [
                str(r["key"])
                for r in tx.query(
                    f"SELECT key FROM web_files WHERE {where} ORDER BY key{{for_update}}", params
                )
            ]
            for key in keys:
                tx.execute("DELETE FROM web_files WHERE key = ?", (key,))
        for key in keys:
            self._forget(key)
        return keys

    def _forget(self, key: str) -> None:
        path = self.local / key
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _info(row: Row) -> FileInfo:
    return FileInfo(row["key"], row["name"], int(row["size"]), float(row["created"]))


def _prefixed(prefix: str) -> tuple[str, tuple[object, ...]]:
    """The condition "the key begins with ``prefix``" (no LIKE: ``_`` is in keys)."""
    if not prefix:
        return "1 = 1", ()
    return "substr(key, 1, ?) = ?", (len(prefix), prefix)


def _ns(created: float) -> int:
    return round(created * 1e9)


def _is_copy(path: Path, info: FileInfo) -> bool:
    """Whether ``path`` is this machine's copy of ``info``'s file as it is now."""
    try:
        st = path.lstat()
    except OSError:
        return False
    return path.is_file() and st.st_size == info.size and st.st_mtime_ns == _ns(info.created)
