"""Numbers as people write them in spreadsheets and exports.

A decimal comma or point; thousands separated by a space, a no-break space,
an apostrophe, or the other of ``.`` and ``,``; negatives with a minus, a
trailing minus or parentheses. Whether a column uses a decimal comma is
decided from all its values (or from ``--locale``), never from one cell: a
column whose values could be read either way (only values such as
``1,234``) is an error that asks for ``--locale``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from importer.errors import ConfigError

LOCALE_DECIMAL = {
    "nb_NO": ",",
    "nn_NO": ",",
    "no_NO": ",",
    "sv_SE": ",",
    "da_DK": ",",
    "fi_FI": ",",
    "de_DE": ",",
    "nl_NL": ",",
    "fr_FR": ",",
    "en_GB": ".",
    "en_US": ".",
    "en_IE": ".",
}
_GROUPING = (" ", "\u00a0", "\u202f", "'", "\u2019")  # always thousands separators
_DIGITS = re.compile(r"\d+(\.\d*)?|\.\d+")


def decimal_for_locale(locale: str) -> str:
    key = locale.replace("-", "_")
    if key not in LOCALE_DECIMAL:
        known = ", ".join(sorted(LOCALE_DECIMAL))
        raise ConfigError(f"unknown locale {locale!r}; use one of {known}")
    return LOCALE_DECIMAL[key]


def _unsign(text: str) -> tuple[bool, str]:
    s = text.strip().replace("\u2212", "-")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.endswith("-"):
        negative, s = not negative, s[:-1].strip()
    if s.startswith("-"):
        negative, s = not negative, s[1:].strip()
    elif s.startswith("+"):
        s = s[1:].strip()
    return negative, s


def parse_number(text: str, decimal: str) -> float:
    """``text`` as a number with ``decimal`` as the decimal separator;
    ValueError when it is not one."""
    negative, s = _unsign(text)
    for g in _GROUPING:
        s = s.replace(g, "")
    other = "." if decimal == "," else ","
    if other in s:
        whole = s.split(decimal)[0]
        groups = whole.split(other)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise ValueError(text)
        s = s.replace(other, "")
    if s.count(decimal) > 1:
        raise ValueError(text)
    s = s.replace(decimal, ".")
    if not _DIGITS.fullmatch(s):
        raise ValueError(text)
    value = float(s)
    return -value if negative else value


def evidence(text: str) -> str | None:
    """What one value says about the decimal separator: ``","`` or ``"."``,
    ``"ambiguous"`` (``1,234``: a decimal or a thousands separator), or
    ``None`` (no separator at all)."""
    _, s = _unsign(text)
    spaced = any(g in s for g in _GROUPING)
    for g in _GROUPING:
        s = s.replace(g, "")
    commas, points = s.count(","), s.count(".")
    if commas and points:
        return "," if s.rfind(",") > s.rfind(".") else "."
    if not (commas or points):
        return None
    sep = "," if commas else "."
    if commas + points > 1:  # 1.234.567: the separator groups thousands
        return "." if sep == "," else ","
    head, tail = s.split(sep)
    if len(tail) != 3 or spaced or head in ("", "0") or len(head) > 3:
        return sep  # 1,5 / 1 234,567 / 0,125 / 1234,567: only a decimal reads so
    return "ambiguous"


class AmbiguousColumn(ValueError):
    def __init__(self, example: str, mixed: str | None = None) -> None:
        super().__init__(example)
        self.example = example
        self.mixed = mixed


def column_decimal(values: Iterable[str]) -> str | None:
    """The decimal separator a column's values agree on, ``None`` when none
    of them has one; :class:`AmbiguousColumn` when they cannot decide it."""
    found: dict[str, str] = {}
    for value in values:
        kind = evidence(value)
        if kind is not None:
            found.setdefault(kind, value)
    if "," in found and "." in found:
        raise AmbiguousColumn(found[","], mixed=found["."])
    if "," in found:
        return ","
    if "." in found:
        return "."
    if "ambiguous" in found:
        raise AmbiguousColumn(found["ambiguous"])
    return None
