"""Numbers as people write them in spreadsheets and exports.

A decimal comma or point; thousands separated by a space, a no-break space,
an apostrophe, or the other of ``.`` and ``,``; negatives with a minus, a
trailing minus (``1250-``, as accounting systems print them) or parentheses,
one of them only: ``-1250-`` or ``(-5)`` is refused, not read with its signs
cancelling out; a whole amount written ``1 250,-`` or ``125.-`` (the dash
stands for the zero øre or cents: it is no minus), with ``kr`` before or
after it if written so; exponents (``1.5E+3``, ``2,5E-2``, whose
separator can only be a decimal one). Whether a column uses a decimal comma
is decided from all its values, never from one cell: a column whose values
could be read either way (only values such as ``1,234``) is an error that
asks for ``--locale``. With a locale, the column's values still count
(:func:`column_decimal`): a value the locale does not settle (``1.234`` under
``nb_NO``, which groups thousands with a space) needs support from the
column's other values, or it is a question for the user.
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
# The thousands separator each locale writes, besides the spaces and
# apostrophes every locale's numbers may have.
LOCALE_GROUPING = {
    "nb_NO": " ",
    "nn_NO": " ",
    "no_NO": " ",
    "sv_SE": " ",
    "fi_FI": " ",
    "fr_FR": " ",
    "da_DK": ".",
    "de_DE": ".",
    "nl_NL": ".",
    "en_GB": ",",
    "en_US": ",",
    "en_IE": ",",
}
_GROUPING = (" ", "\u00a0", "\u202f", "'", "\u2019")  # always thousands separators
_DIGITS = re.compile(r"\d+(\.\d*)?|\.\d+")
_EXPONENT = re.compile(r"(.*\d)([eE][+-]?\d+)")


def decimal_for_locale(locale: str) -> str:
    key = locale.replace("-", "_")
    if key not in LOCALE_DECIMAL:
        known = ", ".join(sorted(LOCALE_DECIMAL))
        raise ConfigError(f"unknown locale {locale!r}; use one of {known}")
    return LOCALE_DECIMAL[key]


class NumberError(ValueError):
    """A value that is not read as a number, with the message (``key`` of
    importer.codes.MESSAGES and its ``params``) that says why, when it is
    more than "not a number"."""

    def __init__(self, text: str, key: str = "type.number", **params: object) -> None:
        super().__init__(text)
        self.key = key
        self.params: dict[str, object] = {"text": text, **params}


# ``1 250,-`` / ``125.-``: a whole amount, the dash in place of the zeros
# after the decimal separator (an en dash as typed by word processors too).
_WHOLE = re.compile(r"(.*\d)\s*([.,])\s*[-\u2013\u2212]")
_KRONER = re.compile(r"(?i)^kr\.?\s*(?=[-+(\d\u2212])|\s*kr\.?$")


def _unsign(text: str) -> tuple[bool, str, str | None]:
    """(negative, the digits and separators, the separator of a whole
    amount written ``1 250,-``, else None). One sign only: a minus before
    or after, or parentheses; two (``-5-``, ``(-5)``, ``+5-``) are refused
    (:class:`NumberError`), as their meaning is a guess."""
    s = _KRONER.sub("", text.strip()).strip().replace("\u2212", "-")
    whole = None
    signs = []
    if s.startswith("(") and s.endswith(")"):
        signs.append("()")
        s = s[1:-1].strip()
    m = _WHOLE.fullmatch(s)
    if m:
        s, whole = m.group(1).strip(), m.group(2)
    elif s.endswith("-"):
        signs.append("-")
        s = s[:-1].strip()
    if s.startswith(("-", "+")):
        signs.append(s[0])
        s = s[1:].strip()
    if len(signs) > 1:
        raise NumberError(text.strip(), "type.number-signs")
    return bool(signs) and signs[0] != "+", s, whole


def _exponent(s: str) -> tuple[str, str]:
    """``1,5E-3`` → (``1,5``, ``E-3``); (``s``, ``""``) without an exponent."""
    m = _EXPONENT.fullmatch(s)
    return (m.group(1), m.group(2)) if m else (s, "")


def parse_number(text: str, decimal: str) -> float:
    """``text`` as a number with ``decimal`` as the decimal separator;
    ValueError when it is not one (:class:`NumberError` to say why)."""
    negative, s, whole = _unsign(text)
    if whole is not None and (whole != decimal or decimal in s):  # 1 250,- in a
        raise ValueError(text)  # column of decimal points; 1,5,-
    s, exponent = _exponent(s)
    other = "." if decimal == "," else ","
    if exponent:
        if other in s:  # a mantissa has no thousands: this is the other decimal
            raise ValueError(text)
    else:
        for g in _GROUPING:
            s = s.replace(g, "")
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
    value = float(s + exponent)
    return -value if negative else value


def evidence(text: str) -> str | None:
    """What one value says about the decimal separator: ``","`` or ``"."``,
    ``"ambiguous"`` (``1,234``: a decimal or a thousands separator), or
    ``None`` (no separator at all). ``1 250,-`` shows a decimal comma."""
    try:
        _, s, whole = _unsign(text)
    except NumberError:
        return None  # refused when it is read
    if whole is not None:
        return whole
    s, exponent = _exponent(s)
    if exponent:  # 1,5E-3: only a decimal separator is written in a mantissa
        commas, points = s.count(","), s.count(".")
        return ("," if commas else ".") if commas + points == 1 else None
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
    """A column whose numbers cannot be read for sure: ``example`` reads two
    ways; ``mixed``, a value written the other way; ``locale``, the one
    given, when it does not settle ``example`` (or ``mixed`` contradicts it)."""

    def __init__(self, example: str, mixed: str | None = None, locale: str | None = None) -> None:
        super().__init__(example)
        self.example = example
        self.mixed = mixed
        self.locale = locale


def column_decimal(values: Iterable[str], locale: str | None = None) -> str | None:
    """The decimal separator a column's values agree on, ``None`` when none
    of them has one; :class:`AmbiguousColumn` when they cannot decide it.

    With ``locale`` the answer is its decimal separator, unless the column
    says otherwise: values that only the other separator reads (``1.5`` under
    ``nb_NO``) with none written the locale's way, or a value such as
    ``1.234`` whose separator is neither the locale's decimal nor its
    thousands separator, with nothing in the column to settle it (a value
    such as ``12,50`` or ``1.234,50``, which show a decimal comma)."""
    found: dict[str, str] = {}
    unsettled: dict[str, str] = {}  # separator → a value that reads either way with it
    for value in values:
        kind = evidence(value)
        if kind is not None:
            found.setdefault(kind, value)
            if kind == "ambiguous":
                unsettled.setdefault("," if "," in value else ".", value)
    if locale is not None:
        decimal = decimal_for_locale(locale)
        other = "." if decimal == "," else ","
        if decimal in found:
            return decimal
        if other in found:
            raise AmbiguousColumn(found[other], mixed=found[other], locale=locale)
        grouping = LOCALE_GROUPING[locale.replace("-", "_")]
        for sep, example in unsettled.items():
            if sep not in (decimal, grouping):
                raise AmbiguousColumn(example, locale=locale)
        return decimal
    if "," in found and "." in found:
        raise AmbiguousColumn(found[","], mixed=found["."])
    if "," in found:
        return ","
    if "." in found:
        return "."
    if "ambiguous" in found:
        raise AmbiguousColumn(found["ambiguous"])
    return None
