"""Dates as they arrive: Excel date cells, Excel serial numbers, and text.

Text dates: ``2025-01-31``, ``31.01.2025`` and ``31.1.25`` (day first, the
Nordic way), and slash and hyphen dates, whose order differs between
countries (``31/01/2025`` and ``31-01-2025`` in Norway and Britain,
``01/31/2025`` in the US). The order of a column's slash and hyphen dates
comes from ``--locale`` or from its values (a day above 12 settles it); a
column where every value reads both ways stops the file rather than being
guessed. A hyphen date needs its four-digit year: ``19-10-30`` may be
written year first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from importer.codes import render

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?")
_DOT = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})")
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")
_HYPHEN = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01, past Excel's 1900 leap bug
_LAST_SERIAL = 2958465  # 9999-12-31

MONTH_FIRST_LOCALES = {"en_US"}


def order_for_locale(locale: str) -> str:
    return "mdy" if locale.replace("-", "_") in MONTH_FIRST_LOCALES else "dmy"


class DateError(ValueError):
    """Not a date; the message, ``key`` with ``params`` (importer.codes.MESSAGES),
    is for the user."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(render(key, params))
        self.key = key
        self.params = params


def from_serial(value: float) -> dt.date:
    if not 1 <= value <= _LAST_SERIAL:
        raise DateError("invalid-date.serial", value=value)
    return _EXCEL_EPOCH + dt.timedelta(days=int(value))


def parse_date(text: str, order: str = "dmy") -> dt.date:
    s = text.strip()
    if m := _ISO.fullmatch(s):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _DOT.fullmatch(s):
        d, mo, y = (int(g) for g in m.groups())
        y = _year(m.group(3))
    elif m := _ordered(s):
        a, b = int(m.group(1)), int(m.group(2))
        d, mo = (a, b) if order == "dmy" else (b, a)
        y = _year(m.group(3))
    else:
        raise DateError("invalid-date", text=s)
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise DateError("invalid-date.unreal", text=s) from None


def _ordered(text: str) -> re.Match[str] | None:
    """A date whose day and month may come in either order: ``31/01/2025``,
    ``01/31/2025``, ``31-01-2025``."""
    return _SLASH.fullmatch(text) or _HYPHEN.fullmatch(text)


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


class AmbiguousDates(ValueError):
    def __init__(self, example: str, other: str | None = None) -> None:
        super().__init__(example)
        self.example = example
        self.other = other


def column_order(values: Iterable[str]) -> str | None:
    """The order of a column's slash and hyphen dates, ``None`` when it has
    none; :class:`AmbiguousDates` when the values cannot decide it."""
    found: dict[str, str] = {}
    for value in values:
        m = _ordered(value.strip())
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12 and b > 12:
            continue  # a date neither way: an error on its own cell, not a question
        kind = "dmy" if a > 12 >= b else "mdy" if b > 12 >= a else "either"
        found.setdefault(kind, value)
    if "dmy" in found and "mdy" in found:
        raise AmbiguousDates(found["dmy"], found["mdy"])
    for kind in ("dmy", "mdy"):
        if kind in found:
            return kind
    if "either" in found:
        raise AmbiguousDates(found["either"])
    return None
