"""A binary file object (a web upload, an open file) read as a file.

Its bytes are copied, in chunks, to a private temporary file that is then
read like any path, so an upload and the same file on disk give the same
table. The copy lives as long as a table holds it (other sheets of the same
workbook are read from it later) and is deleted once none does. Messages
name the upload (``batch.xlsx: the file is empty``), never the copy.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePath
from typing import Protocol

from importer.errors import FileError
from importer.sources.files import _ZIP_MAGIC, MAX_UNPACKED, HeaderTest, Table, read_table

CHUNK = 1 << 20
# An upload larger than this is refused while it is copied: a workbook that
# size unpacks to more than read_table accepts (MAX_UNPACKED), and no csv a
# spreadsheet could hold (1,048,576 rows) comes near it.
MAX_UPLOAD = MAX_UNPACKED
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")


class Readable(Protocol):
    """What :func:`table_from_upload` needs of a file object."""

    def read(self, size: int = -1, /) -> bytes: ...


class TempCopy:
    """A temporary file, deleted when this object is garbage-collected
    (or at exit, or by :meth:`delete`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._finalizer = weakref.finalize(self, _unlink, str(path))

    def delete(self) -> None:
        self._finalizer()


def _unlink(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)


def upload_name(source: object) -> str | None:
    """The file name an upload carries: ``.filename`` (Werkzeug, Starlette:
    their ``.name`` is the form field's) or ``.name`` (an open file, Django)."""
    for attr in ("filename", "name"):
        value = getattr(source, attr, None)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, (bytes, os.PathLike)):
            return os.fsdecode(value)
    return None  # e.g. BytesIO, or a file opened from a descriptor (its name is an int)


def table_from_upload(
    source: Readable,
    *,
    name: str | None = None,
    sheet: str | None = None,
    is_header: HeaderTest | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
) -> Table:
    """The table of a binary file object, read from its current position.

    ``name`` is the upload's file name, for messages and for its type (by
    its suffix); by default the object's own, else its type is told from
    its first bytes. ``encoding`` forces a csv upload's encoding. The
    caller keeps the object and closes it.
    """
    shown = name or upload_name(source) or "upload"
    if isinstance(source, io.TextIOBase):
        raise FileError(_text_mode(shown))
    first = _read(source, shown)
    suffix = PurePath(shown).suffix
    if not _SUFFIX.fullmatch(suffix):
        suffix = ".xlsx" if first.startswith(_ZIP_MAGIC) else ".csv"
    fd, temp = tempfile.mkstemp(prefix="vnimport-", suffix=suffix)
    copy = TempCopy(Path(temp))
    try:
        with os.fdopen(fd, "wb") as out:
            size, chunk = 0, first
            while chunk:
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise FileError(
                        f"{shown}: the file is larger than {MAX_UPLOAD / 2**30:.0f} GB, more "
                        "than vnimport reads; split it"
                    )
                out.write(chunk)
                chunk = _read(source, shown)
        if size == 0 and _read_before(source):
            raise FileError(
                f"{shown}: nothing left to read (the file object is at its end; "
                "seek(0) before passing it)"
            )
        with renamed(copy.path, shown):
            table = read_table(
                copy.path,
                sheet=sheet,
                is_header=is_header,
                encoding=encoding,
                header_row=header_row,
            )
    except BaseException:
        copy.delete()
        raise
    table.display_name, table.keep = shown, copy
    return table


def _read(source: Readable, shown: str) -> bytes:
    chunk = source.read(CHUNK)
    if chunk is None:  # a non-blocking raw stream with nothing ready: nothing more to copy
        return b""
    if isinstance(chunk, str):
        raise FileError(_text_mode(shown))
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    if not isinstance(chunk, bytes):
        close = getattr(chunk, "close", None)
        if callable(close):
            close()  # a coroutine never awaited would warn
        raise TypeError(
            f"{shown}: read() returned a {type(chunk).__name__}, not bytes; for an "
            "asynchronous upload (Starlette's UploadFile) pass its .file"
        )
    return chunk


def _read_before(source: object) -> bool:
    try:
        return bool(source.seekable() and source.tell() > 0)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def _text_mode(shown: str) -> str:
    return f"{shown}: the file was opened as text; open it in binary mode ('rb')"


@contextmanager
def renamed(path: Path, shown: str) -> Iterator[None]:
    """A FileError about ``path`` (a temporary copy) as one about ``shown``."""
    try:
        yield
    except FileError as exc:
        raise FileError(str(exc).replace(str(path), shown)) from None
