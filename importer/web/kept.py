"""Where the web app's files are kept (:class:`~importer.web.files.Files`,
in its database) and the two ways through: :func:`keep`, the one place a
file written here (a check's, a run's or an action's report, an upload, an
edited copy, a mapping file) is stored, and :func:`download`, the one place
a stored file is served. What is written is first written in the data
folder's ``work/`` (files being made), then stored, then removed there;
what is read from a path (a run reads its upload) is this machine's copy
under ``files/`` (:meth:`Files.local_path`).

The keys: ``uploads/ID.xlsx`` (the upload), ``uploads/ID.edited.xlsx``,
``uploads/ID.mapping.toml``, ``batches/ID/check.*`` (the check's report and
fix-me workbook), ``runs/ID/report.*``, ``runs/ID/KIND-ACTION.*`` (a
reconcile's workbook, an undo's report).
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response as BaseResponse

from importer.web.files import Files
from importer.web.store import ActionRecord, BatchRecord

__all__ = [
    "action_key",
    "check_key",
    "download",
    "edited_key",
    "import_local",
    "keep",
    "keep_file",
    "mapping_key",
    "report_key",
    "upload_key",
    "work",
]


def upload_key(batch: BatchRecord) -> str:
    return f"uploads/{batch.stored}"


def edited_key(batch: BatchRecord) -> str:
    """The copy of the upload that cells edited in the page are written to."""
    return f"uploads/{batch.id}.edited{Path(batch.stored).suffix}"


def mapping_key(batch: BatchRecord) -> str:
    return f"uploads/{batch.id}.mapping.toml"


def check_key(batch_id: str) -> str:
    """The base of the check's files: ``.xlsx``, ``.csv``, ``.json``, ``.fixme.xlsx``."""
    return f"batches/{batch_id}/check"


def report_key(run_id: str) -> str:
    """The base of a run's report: ``.xlsx``, ``.csv``, ``.json``, ``.fixme.xlsx``."""
    return f"runs/{run_id}/report"


def action_key(action: ActionRecord) -> str:
    """The base of an action's files, beside its run's report."""
    return f"runs/{action.run_id}/{action.kind}-{action.id}"


@contextlib.contextmanager
def work(files: Files) -> Iterator[Path]:
    """A new folder to write files in before they are kept; removed after."""
    folder = files.local.parent / "work" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def keep_file(files: Files, path: Path, key: str) -> None:
    """Store the file written at ``path`` at ``key``, and remove it."""
    files.put_path(key, path)
    path.unlink(missing_ok=True)


def keep(files: Files, base: Path, key: str) -> list[str]:
    """Store the files a report writer wrote at ``base`` (``base.xlsx``,
    ``base.fixme.xlsx`` ...) at ``key`` with the same endings, and remove
    them; a file of ``key`` stored before and not written now (a fix-me
    workbook with nothing left to fix) is deleted. The keys stored."""
    kept = []
    for path in sorted(base.parent.glob(f"{base.name}.*")):
        if not path.is_file() or path.name.endswith(".partial"):
            continue
        stored = key + path.name[len(base.name) :]
        keep_file(files, path, stored)
        kept.append(stored)
    for info in files.listing(key + "."):
        if info.key not in kept:
            files.delete(info.key)
    return kept


def download(
    files: Files, key: str, name: str, missing: str, *, mimetype: str | None = None
) -> BaseResponse:
    """The file stored at ``key`` as a download named ``name``; a 404
    saying ``missing`` when there is none."""
    path = files.local_path(key)
    if path is None:
        abort(404, missing)
    return send_file(path, as_attachment=True, download_name=name, mimetype=mimetype)


def import_local(files: Files, data: Path) -> int:
    """The files a data folder kept before they were kept in the database
    (``uploads/``, ``batches/``, ``runs/``), stored (unless stored already)
    and removed there, once; how many."""
    moved = 0
    for folder in ("uploads", "batches", "runs"):
        top = data / folder
        if not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            key = path.relative_to(data).as_posix()
            try:
                if not files.exists(key):
                    files.put_path(key, path, created=path.stat().st_mtime)
                    moved += 1
            except ValueError:  # not a key (a name beginning with "."): left
                continue
            path.unlink()
        for path in sorted(top.rglob("*"), reverse=True):
            if path.is_dir():
                with contextlib.suppress(OSError):
                    path.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()
    return moved


def mapping_name(filename: str) -> str:
    """What the user knows the mapping file of their upload ``filename`` as
    (messages and reports name it so, never where it is kept)."""
    return f"{Path(filename).stem}.mapping.toml"
