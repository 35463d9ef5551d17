"""What a cell holds, and where it is: the types every reader gives.

Text stays ``str``; numbers are ``int``/``float``; dates ``date``/``datetime``;
an empty cell is ``""``. Two kinds of text say that the cell is not what the
user meant, and each becomes an issue on its row: :class:`ExcelError` (the
cell shows ``#REF!``) and :class:`ControlText` (a control character).
"""

from __future__ import annotations

import datetime as dt
import re


class ExcelError(str):
    """A cell that shows one of Excel's error values (``#REF!``, ``#N/A`` ...)."""

    __slots__ = ()


class ControlText(str):
    """A cell holding a control character (such as U+001A) that no typed
    value holds: the file was damaged or written by a broken export. A NUL
    is not one of these: it stops the file (see the reader's control pass)."""

    __slots__ = ()


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``: the column's name in Excel."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """``A`` → ``0``: the inverse of :func:`column_letter`."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1
