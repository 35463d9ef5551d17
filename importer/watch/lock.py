"""One watcher per root.

The lock is kept where the watcher keeps its state, on the local disk
(``$XDG_STATE_HOME/vnimport/watch/<hash of the root's real path>/``), with
a second one every user of the machine shares in its temporary folder
(another user, or ``sudo``, has another state folder), and never as a
lock file in the watched folder: a network share or a synced
folder does not lock files reliably, and a lock file there would travel to
the other machines. It is an OS lock (``flock``) on a file there: a
watcher that is killed, or a machine that reboots, leaves no stale lock.

When the target's journal is in PostgreSQL (watchers on several machines
share it), a session-level advisory lock keyed on the root's real path is
taken as well, so that a second machine pointed at the same root refuses
too (:func:`importer.targets.postgres.try_advisory_lock`, which the
company lock of every run on a PostgreSQL journal takes as well). Neither
lock keeps a manual ``vnimport run`` out: the company lock and the
journal's claims do.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from importer.errors import ConfigError

__all__ = ["WatchLock", "advisory_key", "state_dir"]


def state_dir(root: Path, env: Mapping[str, str] | None = None) -> Path:
    """The watcher's own folder on the local disk for ``root``: its lock,
    and what it remembers between passes (when each folder last got a file)."""
    env = os.environ if env is None else env
    real = str(Path(root).resolve())
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vnimport" / "watch" / hashlib.sha256(real.encode()).hexdigest()[:16]


def advisory_key(root: Path) -> int:
    """The PostgreSQL advisory lock of ``root``: a signed 64-bit number of
    its real path."""
    from importer.targets.postgres import advisory_key as key_of

    return key_of("vnimport-watch", str(Path(root).resolve()))


class WatchLock:
    """Held while a watcher works on ``root``: :meth:`acquire` raises
    :class:`ConfigError` naming who holds it. ``journal``: the target's
    journal, a ``postgresql://`` address for the advisory lock as well."""

    def __init__(
        self, root: Path, state: Path, journal: str = "", *, machine: Path | None = None
    ) -> None:
        self.root = Path(root).resolve()
        self.state = state
        self.machine = machine  # the machine-wide lock's folder (default: the temp folder)
        self.journal = journal if journal.startswith(("postgresql://", "postgres://")) else ""
        self._file: IO[str] | None = None
        self._machine: IO[str] | None = None
        self._db: Any = None

    def acquire(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "root").write_text(str(self.root) + "\n", encoding="utf-8")
        path = self.state / "lock"
        handle = path.open("a+", encoding="utf-8")
        if not _try_lock(handle):
            try:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
            except OSError:  # Windows: the locked byte cannot be read
                holder = "another process"
            handle.close()
            raise ConfigError(
                f"another watcher is watching {self.root} ({holder}); one watcher per "
                f"root (its lock: {path})"
            )
        try:
            self._machine = _machine_lock(self.root, self.machine)
        except BaseException:
            _unlock(handle)
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        when = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {when}")
        handle.flush()
        self._file = handle
        if self.journal:
            try:
                self._advisory()
            except BaseException:
                self.release()
                raise

    def _advisory(self) -> None:
        from importer.targets.postgres import safe_url, try_advisory_lock

        holder = f"vnimport watch {self.root} (pid {os.getpid()} on {socket.gethostname()})"
        db, _ = try_advisory_lock(self.journal, advisory_key(self.root), holder)
        if db is None:
            raise ConfigError(
                f"another watcher is watching {self.root} (it holds the lock in the "
                f"journal {safe_url(self.journal)}, perhaps from another machine); one "
                "watcher per root"
            )
        self._db = db

    def release(self) -> None:
        if self._db is not None:
            with suppress(Exception):
                self._db.close()  # the session's advisory lock goes with it
            self._db = None
        if self._machine is not None:
            machine, self._machine = self._machine, None
            _unlock(machine)
            machine.close()
        if self._file is not None:
            handle, self._file = self._file, None
            handle.seek(0)
            handle.truncate()
            _unlock(handle)
            handle.close()

    def __enter__(self) -> WatchLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def machine_lock_path(root: Path, folder: Path | None = None) -> Path:
    """The lock every user of this machine shares for ``root`` (the state
    folder is each user's own: another user, or ``sudo``, has another), in
    ``folder`` (default: the machine's temporary folder)."""
    key = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:16]
    return Path(folder or tempfile.gettempdir()) / f"vnimport-watch-{key}.lock"


def _machine_lock(root: Path, folder: Path | None) -> IO[str]:
    path = machine_lock_path(root, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        raise ConfigError(
            f"another user's watcher may be watching {root}: its machine-wide lock {path} "
            "cannot be opened; one watcher per root"
        ) from None
    if hasattr(os, "fchmod"):
        with suppress(OSError):
            os.fchmod(fd, 0o666)  # every user of the machine may take it in turn
    handle = os.fdopen(fd, "r+", encoding="utf-8")
    if not _try_lock(handle):
        handle.close()
        raise ConfigError(
            f"another watcher is watching {root} (another user's, or one with another "
            f"state folder; the machine-wide lock: {path}); one watcher per root"
        )
    return handle


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        with suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
