"""Text (csv) files: their bytes as the text the user wrote, and how the
cells are separated.

UTF-8, with or without its mark, and UTF-16 and UTF-32 with theirs, are
read as they are. A file in an older 8-bit encoding is read only when its
letters say which one:

- Windows-1252 (or Latin-1, for bytes Windows-1252 does not define), the
  encoding of the Nordic tools that wrote most such files, when every
  character beyond ASCII is one that Norwegian, Swedish, Danish or German
  text holds (``æ ø å ä ö ü é á ß``, ``€``, dashes and quotes ...);
- Greek or Cyrillic, when charset-normalizer finds one reading clearly
  better than every other (a handful of rows usually settle it).

Anything else (Central European text, whose letters read as Western ones
too; a short file; a close call) stops the file and asks for its encoding
(``--encoding``): a wrong one would change every name with a letter beyond
A-Z, silently. A file that is UTF-8 except for lines pasted in from a
Windows-1252 file is read with those lines in Windows-1252. Which encoding
was used, when it was a judgement, is said in a note.
"""

from __future__ import annotations

import codecs
import collections
import csv
import io
import re
from pathlib import Path

from importer.errors import ConfigError, FileError

_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
WESTERN = {"cp1252": "Windows-1252 (cp1252)", "latin-1": "Latin-1 (ISO 8859-1)"}
# Letters beyond A-Z, as Windows-1252 reads them. The Nordic ones are, in
# Central European text (Windows-1250, ISO 8859-2), other letters: ć, ř, ĺ.
# The others are the same letters there: those Nordic text has beside æ ø å,
# and those it has not.
_NORDIC = "æøåÆØÅ"
_COMMON = "äöüÄÖÜéÉß"
_FOREIGN = "áíóúýÁÍÓÚÝçÇšŠžŽ"
# Signs that are signs in Central European encodings too (© ® ± ¼ ¾ are
# letters there: Š Ž ą Ľ ž).
_SIGNS = "\u00a0€\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e…•°§«»\u00d7™"
# Beyond these (and the control characters Latin-1 gives bytes 0x80-0x9f),
# a character says the file is not Western: è for Czech č, ñ for Polish ń,
# £ for Polish Ł, ï ð ô for Greek omicron, pi, tau ...
_NOT_WESTERN = re.compile("[^\x00-\x9f" + re.escape(_NORDIC + _COMMON + _FOREIGN + _SIGNS) + "]")
_NORDIC_LETTER = re.compile(f"[{_NORDIC}]")
_FOREIGN_LETTER = re.compile(f"[{_FOREIGN}]")
# What Central European, Greek and Cyrillic words look like read as
# Windows-1252, and Nordic words never do: a word of three letters beyond A-Z
# (Greek, Cyrillic), æ ø å beside another such letter (Czech ří reads øí),
# and iæ ending a word (ić, the ending of Croatian and Serbian surnames).
_NOT_NORDIC_WORD = re.compile(
    f"[\u00c0-\u00ff]{{3}}|[{_NORDIC}][\u00c0-\u00ff]|[\u00c0-\u00ff][{_NORDIC}]|iæ\\b"
)
# The 8-bit encodings charset-normalizer chooses among, by its names.
DETECTED = {
    "cp1253": "Windows-1253 (Greek)",
    "iso8859_7": "ISO 8859-7 (Greek)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "koi8_r": "KOI8-R (Cyrillic)",
    "koi8_u": "KOI8-U (Cyrillic)",
    "iso8859_5": "ISO 8859-5 (Cyrillic)",
    "cp1250": "Windows-1250 (Central European)",
    "iso8859_2": "ISO 8859-2 (Central European)",
    "cp1257": "Windows-1257 (Baltic)",
    "cp1254": "Windows-1254 (Turkish)",
}
# Those whose letters are not A-Z: their text read as another encoding is
# letters of another alphabet, which charset-normalizer tells apart well.
# The Latin ones are told apart from each other by a few letters only.
_OTHER_ALPHABET = {"cp1253", "iso8859_7", "cp1251", "koi8_r", "koi8_u", "iso8859_5"}
_ESCAPED = re.compile("[\udc80-\udcff]+")  # bytes that are not UTF-8 (surrogateescape)
_NON_ASCII = re.compile("[\x80-\ud7ff\ue000-\U0010ffff]")
_ASK = (
    "give it with --encoding (cp1252: Western European, cp1250: Central European, "
    "cp1251: Cyrillic, cp1253: Greek), or save the file as CSV UTF-8"
)


def check_encoding(encoding: str) -> None:
    """Refuse a name that is not a text encoding Python knows."""
    try:
        codecs.lookup(encoding)
        b"A".decode(encoding, "ignore")  # rot13, base64 ...: codecs, not text encodings
    except (LookupError, UnicodeError):
        raise ConfigError(
            f"unknown encoding {encoding!r}; give a text encoding such as utf-8, cp1252 "
            "(Western European), cp1250 (Central European), cp1251 (Cyrillic), cp1253 "
            "(Greek) or utf-16-le"
        ) from None


def decode(p: Path, raw: bytes, encoding: str | None = None) -> tuple[str, str | None]:
    """The text of ``raw``, and the encoding it was read in when that was a
    judgement (for the note), else None. ``encoding`` forces one."""
    if encoding is not None:
        return _forced(p, raw, encoding), None
    for bom, codec, label in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), None
            except UnicodeDecodeError as exc:
                raise FileError(
                    f"{p}: the file starts with the mark of {label} text but is not "
                    f"{label} ({exc.reason} at byte {exc.start:,}); save it again as CSV UTF-8"
                ) from None
    raw = raw.removeprefix(codecs.BOM_UTF8)  # UTF-8's mark: read on as UTF-8
    order = _utf16_order(raw)
    if order is not None:
        raise FileError(
            f"{p}: the file is UTF-16 text (as Excel's 'Unicode text') without the mark at "
            "its start that says so; save it again as CSV UTF-8, or give its encoding: "
            f"--encoding {order}"
        )
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")
    if "\x00" in text:  # not text: the reader refuses it, naming where the NUL is
        return _ESCAPED.sub(lambda m: _bytes(m.group(0)).decode("latin-1"), text), None
    if _pasted_lines(text):
        return _pasted(p, text)
    return _legacy(p, raw)


def _forced(p: Path, raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].decode(encoding, "replace").count("\n") + 1
        raise FileError(
            f"{p}: line {line} is not {encoding} text (byte 0x{raw[exc.start]:02X}); "
            f"the file is in another encoding than --encoding {encoding}"
        ) from None
    except UnicodeError as exc:
        raise FileError(f"{p}: cannot be read as {encoding} ({exc})") from None


def _utf16_order(raw: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` for UTF-16 text without its mark:
    mostly ASCII, so every other byte is zero."""
    sample = raw[:4096]
    pairs = len(sample) // 2
    even, odd = sample[0 : pairs * 2 : 2].count(0), sample[1 : pairs * 2 : 2].count(0)
    if pairs >= 2 and odd * 4 >= pairs and even * 10 <= odd:
        return "utf-16-le"
    if pairs >= 2 and even * 4 >= pairs and odd * 10 <= even:
        return "utf-16-be"
    return None


def _bytes(escaped: str) -> bytes:
    return bytes(ord(c) - 0xDC00 for c in escaped)


def _pasted_lines(text: str) -> bool:
    """Whether ``text`` has lines of UTF-8 beyond ASCII and lines that are
    not UTF-8, and no line with both: lines pasted in from another file.
    (Bytes of another encoding make a valid UTF-8 pair now and then, within
    a line of that encoding.)"""
    if not _NON_ASCII.search(text):
        return False
    utf8 = False
    for line in text.splitlines():
        escaped = _ESCAPED.search(line) is not None
        if _NON_ASCII.search(line):
            if escaped:
                return False
            utf8 = True
    return utf8


def _pasted(p: Path, text: str) -> tuple[str, str | None]:
    """UTF-8 text with bytes of another encoding in it: lines pasted in
    from a Windows-1252 file are read as such; anything else is refused."""
    runs = [_bytes(m) for m in _ESCAPED.findall(text)]
    codec = "cp1252"
    try:
        b"".join(runs).decode(codec)
    except UnicodeDecodeError:
        codec = "latin-1"
    lines: list[int] = []
    line, last = 1, 0

    def put(m: re.Match[str]) -> str:
        nonlocal line, last
        line += text.count("\n", last, m.start())
        last = m.start()
        if not lines or lines[-1] != line:
            lines.append(line)
        return _bytes(m.group(0)).decode(codec)

    fixed = _ESCAPED.sub(put, text)
    shown = ", ".join(map(str, lines[:5])) + (
        f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    )
    which = f"line {shown}" if len(lines) == 1 else f"lines {shown}"
    pasted = fixed.split("\n")
    if not _western("\n".join(pasted[n - 1] for n in lines)):
        raise FileError(
            f"{p}: the file is UTF-8 except {which}, written in another encoding; save the "
            "file again as CSV UTF-8"
        )
    return fixed, f"UTF-8, except {which} in {WESTERN[codec]}"


def _western(text: str) -> bool:
    """Whether ``text``, read as Windows-1252, is what a Norwegian, Swedish,
    Danish or German file holds: letters beyond A-Z that Windows-1252 and
    the Central European encodings read alike (ä ö ü é ß á í ...), and æ ø å,
    at least three times as many as the others of those; no word made of such
    letters only (Greek and Cyrillic words are, read as Windows-1252), and
    no other character than common signs (€, dashes, quotes ...). Central
    European text passes only when its only letters beyond A-Z are ř, ć, ĺ."""
    if _NOT_WESTERN.search(text) or _NOT_NORDIC_WORD.search(text):
        return False
    # Both Nordic and other letters: a Norwegian list with a José García in
    # it, or Czech text whose ř reads as ø. Nordic text has many æ ø å and
    # few á í ó; Central European text has few ř ć ĺ and many á í ý.
    nordic = len(_NORDIC_LETTER.findall(text))
    return nordic == 0 or nordic >= 3 * len(_FOREIGN_LETTER.findall(text))


def _legacy(p: Path, raw: bytes) -> tuple[str, str | None]:
    """Text in an 8-bit encoding, when its letters say which one."""
    try:
        text, codec = raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, codec = raw.decode("latin-1"), "latin-1"
    if _western(text):
        return text, WESTERN[codec]
    from charset_normalizer import from_bytes

    matches = from_bytes(raw, cp_isolation=list(DETECTED))
    best = matches.best()
    if best is None or best.encoding not in _OTHER_ALPHABET or best.coherence < 0.2:
        raise FileError(
            f"{p}: the file is not UTF-8, and its letters do not say which "
            f"encoding it is in; {_ASK}"
        )
    found = str(best)
    for other in matches:
        close = other.chaos - best.chaos < 0.05 and best.coherence - other.coherence < 0.1
        if other is not best and close and str(other) != found:
            raise FileError(
                f"{p}: the file is not UTF-8, and it reads as {DETECTED[best.encoding]} or as "
                f"{DETECTED.get(other.encoding, other.encoding)} about as well; {_ASK}"
            )
    return found, DETECTED[best.encoding]


_DELIMITERS = (",", ";", "\t", "|")


def sniff_dialect(text: str) -> tuple[str, bool]:
    """The delimiter among ``, ; tab |`` that splits the first lines into
    the same number of columns most often (title lines above the header,
    with no delimiter in them, do not count); and whether quoted cells
    follow the delimiter after a space (``"A", "B"``, ``10001; "Fjord AS"``),
    which the csv reader must skip, or the quotes would be part of the value."""
    lines = [line for line in text[:65536].splitlines()[:60] if line.strip()]
    sample = "\n".join(lines)
    best, best_spaced, best_score = ",", False, (0, 0)
    for d in _DELIMITERS:
        spaced = re.search(re.escape(d) + ' +"', sample) is not None
        try:
            reader = csv.reader(io.StringIO(sample), delimiter=d, skipinitialspace=spaced)
            widths = [len(r) for r in reader]
        except csv.Error:
            continue
        counts = collections.Counter(w for w in widths if w >= 2)
        if not counts:
            continue
        width, seen = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if (seen, width) > best_score:
            best, best_spaced, best_score = d, spaced, (seen, width)
    return best, best_spaced
