"""Real-world and hostile files through ``vnimport preview``: every file of the
corpus (tests/corpus.py) previews or is refused in one line, never a traceback,
never a hang; and whatever bytes or cells come in, :func:`prepare` raises
nothing but :class:`VnimportError`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import corpus
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from importer.batch import Batch, check
from importer.cli import main
from importer.doctypes import DocType, Registry
from importer.errors import VnimportError

ROOT = Path(__file__).resolve().parents[1]
TYPE = "customer_invoice"
SECONDS = 5.0  # a guard against hangs, not a benchmark

# Cases that can take the whole process down (a Rust abort on a failed
# allocation, gigabytes of memory, minutes of work): run in a child process
# with 1.5 GiB of address space and a time limit, so a regression shows as a
# failed test and not as a dead or swapping test run.
ISOLATED = {
    "xlsx-far-cell",
    "xlsx-far-cell-70m",
    "xlsx-merged-to-last-row",
    "xlsx-shared-strings-huge-count",
    "xlsx-date-cell-far-past",
    "xlsx-padded-format-huge",
    "xlsx-comment-fake-error-cell",
    "xlsx-head-sheet-and-2000-others",
}
ISOLATED_MEMORY = 3 << 29  # 1.5 GiB: a normal run needs under 1 GiB of address space

# Cases whose outcome today is not the expected one: bugs reported, not fixed here.
KNOWN_BUGS: dict[str, str] = {
    "xlsx-formula-error-spill": (
        "one cell showing #SPILL! (Excel 365 dynamic arrays) makes calamine refuse the whole "
        "sheet ('Unsupported cell error value') instead of an excel-error issue on that cell"
    ),
}


@pytest.fixture(scope="session")
def corpus_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return corpus.write_all(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def doctype(registry: Registry) -> DocType:
    return registry.get(TYPE)


def _cases() -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
        if name in KNOWN_BUGS
        else name
        for name in corpus.CASES
    ]


def test_the_corpus_is_consistent() -> None:
    assert set(corpus.CASES) == set(corpus.EXPECTED) == set(corpus.NOTES)
    assert set(KNOWN_BUGS) <= set(corpus.CASES)
    assert set(corpus.EXPECTED.values()) <= {"ok", "file-error", "clean"}


def test_the_zip_bombs_are_real_and_small(corpus_files: dict[str, Path]) -> None:
    for name in ("xlsx-zip-bomb", "xlsx-zip-bomb-sheet"):
        path = corpus_files[name]
        with zipfile.ZipFile(path) as z:
            assert sum(i.file_size for i in z.infolist()) > 1 << 30
            with z.open("xl/workbook.xml") as fh:  # a readable workbook, not just junk
                assert b"Fakturaer" in fh.read()
        assert path.stat().st_size < 2 << 20


_BOOT = (
    "import resource, sys; "
    "resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1]))); "
    "from importer.cli import main; sys.exit(main(sys.argv[2:]))"
)


def _preview_isolated(path: Path) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _BOOT, str(ISOLATED_MEMORY), "preview", str(path), "-t", TYPE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name}: no answer in {SECONDS:.0f} s (killed)")
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("name", _cases())
def test_preview_of_a_corpus_file_is_rows_or_one_clear_line(
    name: str,
    corpus_files: dict[str, Path],
    doctype: DocType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = corpus_files[name]
    started = time.perf_counter()
    if name in ISOLATED:
        code, out, err = _preview_isolated(path)
    else:
        code = main(["preview", str(path), "--type", TYPE])
        out, err = capsys.readouterr()
    elapsed = time.perf_counter() - started
    if "internal error" in err and name not in ISOLATED:
        check(path, doctype)  # raise it again here, with its traceback, for the report
    assert "Traceback" not in out + err and "internal error" not in err, err[-2000:]
    expected = corpus.EXPECTED[name]
    if expected == "clean":
        expected = "file-error" if code == 2 else "ok"
    if expected == "ok":
        assert code in (0, 1), err[-2000:]
        assert all(json.loads(line)["type"] == TYPE for line in out.splitlines())
    else:
        assert code == 2, err[-2000:]
        assert err.startswith("vnimport: error: ") and err.count("\n") == 1, err
        assert out == ""
    assert elapsed < SECONDS, f"{name} took {elapsed:.1f} s"


# ---------------------------------------------- what the readable files mean


def _column(field: str) -> Callable[[Batch], list[Any]]:
    return lambda p: [r.values.get(field) for r in p.rows]


def _issues(p: Batch) -> set[tuple[int, str, str]]:
    return {(r.number, i.column, i.code) for r in p.rows for i in r.issues}


NORDIC_ROW = ["Kaffe, hele bønner", "Filterpapir nr. 4", "Service, 2 timer", "Kaffekvern, industri"]
PRICE, QTY, DATE = "invoiceLines.unitPriceInCurrency", "invoiceLines.quantity", "documentDate"
DESCRIPTION = "invoiceLines.description"

MEANING: dict[str, tuple[Callable[[Batch], Any], Any]] = {
    "csv-decimal-comma-space-thousands": (
        lambda p: (_column(PRICE)(p), _column(QTY)(p)),
        ([1234.5, -1234.5, -1234.5, -1234.5], [1, -1, -1, -1]),
    ),
    "csv-decimal-comma-nbsp-thousands": (_column(PRICE), [1234.5, 12345678.9, 1000, 0.5]),
    "csv-decimal-comma-dot-thousands": (_column(PRICE), [1234.5, -1234567, -12.5, -0.75]),
    "csv-dates-dotted": (_column(DATE), ["2025-03-03", "2025-12-31", "2026-01-01", "2024-02-29"]),
    "csv-dates-short": (_column(DATE), ["2025-03-03", "2025-12-31", "2026-01-01", "1999-07-09"]),
    "csv-dates-iso": (_column(DATE), ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06"]),
    "xlsx-dates-serial": (
        lambda p: _column(DATE)(p)[:3],
        ["2025-03-03", "2025-03-04", "2025-03-05"],
    ),
    "csv-spaces": (_column("customerNumber"), ["010104", "010104", "010102", "010106"]),
    "csv-quoted-delimiters-and-newlines": (
        lambda p: _column(DESCRIPTION)(p)[:2],
        ['Kaffe; "Gull" 1 kg', "Linje 1\nLinje 2"],
    ),
    "csv-pipe": (lambda p: _column(DESCRIPTION)(p)[:2], ["Kaffe, te; og kakao", "a;b;c"]),
    "csv-title-rows": (lambda p: (p.table.header_row, len(p.rows)), (4, 4)),
    "xlsx-title-rows": (lambda p: (p.table.header_row, len(p.rows)), (4, 4)),
    "xlsx-formulas-cached": (
        lambda p: {k: p.rows[0].values.get(k) for k in ("referenceNumber", DATE, QTY, PRICE)},
        {"referenceNumber": "1001", DATE: "2025-03-03", QTY: 12, PRICE: 189.5},
    ),
    "xlsx-formula-errors": (
        lambda p: {i for i in _issues(p) if i[2] == "excel-error"},
        {
            (2, "Item number", "excel-error"),
            (3, "Quantity", "excel-error"),
            (4, "Customer number", "excel-error"),
            (5, "Invoice date", "excel-error"),
            (5, "Unit price", "excel-error"),
            (6, "Line description", "excel-error"),
            (6, "Unit price", "excel-error"),
        },
    ),
    "xlsx-10mb-cell": (lambda p: _issues(p), {(2, "Line description", "too-long")}),
    "xlsx-renamed-csv": (lambda p: len(p.rows), 10),
    "xlsx-excel-features": (
        lambda p: (
            [(r.values.get("referenceNumber"), r.values.get("customerNumber")) for r in p.rows],
            _issues(p),
            sorted(w.code for w in p.warnings),
        ),
        (
            [("1001", "010104"), ("1001", "010104"), ("1002", "010102"), ("1003", "010106")],
            {(4, "Item number", "excel-error")},
            ["hidden-column", "hidden-row"],
        ),
    ),
    "csv-control-character-late": (
        lambda p: {(i[1], i[2]) for i in _issues(p) if i[0] == p.rows[-1].number},
        {("Line description", "control-character"), ("Item number", "incomplete")},
    ),
    "xlsx-date-cell-nan": (
        lambda p: (p.rows[1].values.get(DATE), {i[1:] for i in _issues(p)}),
        (None, {("Invoice date", "invalid-date")}),
    ),
    "csv-unterminated-quote": (lambda p: _column(DESCRIPTION)(p)[-1][:6], "Kaffe;"),
}
for _name in ("csv-utf8", "csv-utf8-bom", "csv-utf16le-tab", "csv-cp1252", "csv-latin1"):
    MEANING[_name] = (lambda p: _column(DESCRIPTION)(p)[-1][: len(corpus.NORDIC)], corpus.NORDIC)
for _name in ("csv-comma", "csv-semicolon", "csv-tab", "csv-utf16be-bom", "csv-cr-only"):
    MEANING[_name] = (_column(DESCRIPTION), NORDIC_ROW)


MEANING_BUGS = {
    "xlsx-date-cell-nan": (
        "calamine reads NaN in a date-formatted cell as 1899-12-30 (Excel's day 0): the "
        "row imports with that date and no issue"
    ),
}


def test_every_meaning_check_names_an_ok_case() -> None:
    assert all(corpus.EXPECTED[name] == "ok" for name in MEANING)
    assert set(MEANING_BUGS) <= set(MEANING)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=MEANING_BUGS[n]))
        if n in MEANING_BUGS
        else n
        for n in MEANING
    ],
)
def test_a_corpus_file_is_read_as_a_person_reads_it(
    name: str, corpus_files: dict[str, Path], doctype: DocType
) -> None:
    get, expected = MEANING[name]
    assert get(check(corpus_files[name], doctype)) == expected


# ------------------------------------------------------- properties: fuzzing


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _prepare_or_refuse(path: Path, doctype: DocType) -> None:
    """``prepare`` either works or raises a VnimportError; anything else
    propagates and fails the test (with the input as Hypothesis's example)."""
    started = time.perf_counter()
    try:
        check(path, doctype)
    except VnimportError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
    assert time.perf_counter() - started < SECONDS


FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that steer a random file towards the parser's corners.
_CSV_PIECES = st.sampled_from(
    [
        b";",
        b",",
        b"\t",
        b"|",
        b'"',
        b'""',
        b"\n",
        b"\r\n",
        b"\r",
        b" ",
        b"\xa0",
        b"\x00",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\xfe\xff",
        b"\xe6\xf8\xe5",  # æøå in cp1252/latin-1
        "æøå".encode(),
        b"\x81",
        b"1",
        b"1,5",
        b"(1 234,50)",
        b"31.02.2025",
        b"01/02/2025",
        b"45719",
        b"#REF!",
        b"=1+2",
        ";".join(corpus.HEADER).encode(),
        ",".join(corpus.HEADER).encode(),
        b"Invoice number",
        b"Quantity",
    ]
)
_CSV_BYTES = st.one_of(
    st.binary(max_size=2048),
    st.lists(st.one_of(_CSV_PIECES, st.binary(max_size=8)), max_size=60).map(b"".join),
)


@FUZZ
@given(data=_CSV_BYTES)
def test_any_bytes_as_csv_are_read_or_refused(data: bytes, scratch: Path, doctype: DocType) -> None:
    path = scratch / "fuzz.csv"
    path.write_bytes(data)
    _prepare_or_refuse(path, doctype)


_SAMPLE = (corpus.SAMPLES / "customer_invoice.xlsx").read_bytes()


@st.composite
def _mutated(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@FUZZ
@given(data=_mutated(_SAMPLE))
def test_a_damaged_workbook_is_read_or_refused(
    data: bytes, scratch: Path, doctype: DocType
) -> None:
    path = scratch / "mutated.xlsx"
    path.write_bytes(data)
    _prepare_or_refuse(path, doctype)


def _parts(workbook: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(workbook)) as z:
        return {name: z.read(name) for name in z.namelist()}


# The bundled sample (shared strings, as Excel saves) and a workbook with
# merged, hidden, zero-padded and error cells (what read.py scans for).
_BASES = {"sample": _parts(_SAMPLE), "features": corpus.excel_features_parts()}


@FUZZ
@given(base=st.sampled_from(sorted(_BASES)), data=st.data())
def test_a_workbook_with_damaged_xml_inside_a_sound_zip_is_read_or_refused(
    base: str, data: st.DataObject, scratch: Path, doctype: DocType
) -> None:
    # Mutating the zip mostly breaks checksums; this reaches the XML parsers.
    parts = dict(_BASES[base])
    xml = sorted(n for n in parts if n.endswith((".xml", ".rels")))
    weights = [n for n in xml for _ in range(4 if "worksheets" in n or "styles" in n else 1)]
    part = data.draw(st.sampled_from(weights), label="part")
    parts[part] = data.draw(_mutated(parts[part]), label=part)
    path = scratch / "xml-mutated.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    _prepare_or_refuse(path, doctype)


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
# What an xlsx (XML 1.0) can hold: no control characters but tab, LF and CR.
_XML_TEXT = st.text(
    st.characters(
        exclude_categories=["Cs"],
        exclude_characters="".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")
        + "\ufffe\uffff",
    ),
    max_size=40,
)
_WIDTH = len(corpus.HEADER)


@FUZZ
@given(
    rows=st.lists(st.lists(_TEXT, min_size=_WIDTH, max_size=_WIDTH + 2), min_size=1, max_size=8),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_any_text_cells_in_a_csv_are_read_or_refused(
    rows: list[list[str]], delimiter: str, encoding: str, scratch: Path, doctype: DocType
) -> None:
    import csv

    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter).writerows([corpus.HEADER, *rows])
    path = scratch / "cells.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    _prepare_or_refuse(path, doctype)


_XLSX_CELL = st.one_of(
    _XML_TEXT,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.dates(),
    st.none(),
)


@FUZZ
@given(
    rows=st.lists(
        st.lists(_XLSX_CELL, min_size=_WIDTH, max_size=_WIDTH + 2), min_size=1, max_size=8
    )
)
def test_any_cells_in_a_workbook_are_read_or_refused(
    rows: list[list[object]], scratch: Path, doctype: DocType
) -> None:
    path = corpus.openpyxl_xlsx(scratch, "cells.xlsx", [corpus.HEADER, *rows])
    _prepare_or_refuse(path, doctype)


@FUZZ
@given(rows=st.lists(st.lists(_XML_TEXT, min_size=_WIDTH, max_size=_WIDTH), max_size=6))
def test_any_inline_text_in_a_raw_sheet_is_read_or_refused(
    rows: list[list[str]], scratch: Path, doctype: DocType
) -> None:
    # Inline strings, as other programs (not Excel) write them.
    xml = corpus.sheet_xml([corpus.HEADER, *rows])
    path = corpus.raw_xlsx(scratch, "inline.xlsx", xml)
    _prepare_or_refuse(path, doctype)


@FUZZ
@example(value=-1e20)
@given(value=st.floats() | st.integers(-(2**70), 2**70))
def test_any_number_in_a_date_formatted_cell_is_read_or_refused(
    value: float, scratch: Path, doctype: DocType
) -> None:
    rows: list[Sequence[corpus.RawCell]] = [
        corpus.HEADER,
        ["1001", "010104", corpus.Serial(value), corpus.Serial(value), "1", "x", 1, 1, None],
    ]
    path = corpus.raw_xlsx(scratch, "date-cells.xlsx", corpus.sheet_xml(rows))
    _prepare_or_refuse(path, doctype)
