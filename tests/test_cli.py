"""The vnimport command as a user runs it: real files, real exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TYPES, write_csv, write_xlsx

from importer.cli import main

HEADER = [
    "Invoice number",
    "Customer number",
    "Invoice date",
    "Item number",
    "Quantity",
    "Unit price",
]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *argv], capture_output=True, text=True, timeout=60
    )


def test_preview_writes_one_json_object_per_document(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            HEADER,
            ["1001", "10000", "2025-01-27", "222", "500", "12.5"],
            ["1001", "10000", "2025-01-27", "223", "1", "2"],
            ["1002", "10001", "2025-01-28", "222", "3", "12.5"],
        ],
    )
    out = tmp_path / "out.jsonl"
    proc = run("preview", str(src), "--type", "customer_invoice", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [set(r) for r in records] == [{"type", "key", "rows", "method", "path", "body"}] * 2
    assert [(r["key"], r["rows"]) for r in records] == [("1001", [2, 3]), ("1002", [4])]
    assert records[0]["method"] == "POST" and records[0]["path"] == "/v2/customerinvoice"
    assert len(records[0]["body"]["invoiceLines"]) == 2
    assert "Traceback" not in proc.stderr


def test_preview_to_stdout_and_exit_1_when_a_row_is_invalid(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            HEADER,
            ["1001", "10000", "2025-01-27", "222", "500", "12.5"],
            ["1002", "10001", "31.02.2025", "222", "many", "12.5"],
        ],
    )
    proc = run("preview", str(src), "-t", "customer_invoice")
    assert proc.returncode == 1
    assert [json.loads(x)["key"] for x in proc.stdout.splitlines()] == ["1001"]
    assert "row 3, Invoice date: '31.02.2025' is not a real date [invalid-date]" in proc.stderr
    assert "row 3, Quantity: expected a number, got 'many' [type]" in proc.stderr


@pytest.mark.parametrize("name", TYPES)
def test_every_bundled_sample_previews_with_exit_0(
    name: str, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for suffix in ("xlsx", "csv"):
        assert main(["preview", str(samples_dir / f"{name}.{suffix}"), "--type", name]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) >= 3 and all(json.loads(x)["type"] == name for x in lines)


def _encrypted(tmp_path: Path, samples_dir: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    buf = io.BytesIO()
    with (samples_dir / "customer_invoice.xlsx").open("rb") as fh:
        OOXMLFile(fh).encrypt("hemmelig", buf)
    path = tmp_path / "locked.xlsx"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d, s: d / "missing.xlsx", "no such file"),
        (lambda d, s: _write(d / "empty.csv", b""), "the file is empty"),
        (lambda d, s: _write(d / "blank.xlsx", b"hello, not a workbook"), "not a valid .xlsx"),
        (
            lambda d, s: _write(d / "cut.xlsx", (s / "customer_invoice.xlsx").read_bytes()[:2000]),
            "damaged or incomplete",
        ),
        (lambda d, s: _write(d / "image.csv", bytes(range(256)) * 20), "binary data"),
        (lambda d, s: _write(d / "doc.pdf", b"%PDF-1.4"), "unsupported file type"),
        (
            lambda d, s: _write(d / "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
            "Excel 97-2003",
        ),
        (_encrypted, "password-protected"),
        (
            lambda d, s: _write(
                d / "header.csv", b"Invoice number;Customer number;Invoice date;Item number\n"
            ),
            "no data rows",
        ),
        (
            lambda d, s: _write(d / "cols.csv", b"Invoice number;Item number\n1;2\n"),
            "required column missing: 'Customer number' (customerNumber), 'Invoice date'",
        ),
    ],
)
def test_file_level_errors_are_one_clear_line_and_exit_2(
    tmp_path: Path, samples_dir: Path, make: object, expected: str
) -> None:
    path = make(tmp_path, samples_dir)  # type: ignore[operator]
    proc = run("validate", str(path), "--type", "customer_invoice")
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_unknown_type_and_sheet_are_fatal(tmp_path: Path, samples_dir: Path) -> None:
    proc = run("validate", str(samples_dir / "customer.csv"), "--type", "invoice")
    assert proc.returncode == 2 and "unknown document type 'invoice'" in proc.stderr
    assert "customer_invoice" in proc.stderr  # says what the types are
    proc = run("validate", str(samples_dir / "customer.xlsx"), "-t", "customer", "--sheet", "Ark2")
    assert proc.returncode == 2 and "no sheet named 'Ark2'" in proc.stderr


def test_types_lists_all_seven_and_their_columns() -> None:
    proc = run("types")
    assert proc.returncode == 0
    for name in TYPES:
        assert name in proc.stdout
    proc = run("types", "purchase_order", "--json")
    info = json.loads(proc.stdout)[0]
    assert info["lines"] == "lines"
    assert "lines.orderQty" in [c["column"] for c in info["columns"]]


def test_validate_writes_xlsx_csv_and_json_reports(tmp_path: Path) -> None:
    src = write_xlsx(
        tmp_path / "batch.xlsx",
        [
            [*HEADER, "Colour"],
            ["1001", "10000", "2025-01-27", "222", 5, 12.5, "red"],
            ["1001", "10000", "2025-01-27", "223", "x", 2, "blue"],
            ["=1+2", "10001", "2025-01-28", "222", 1, 1, None],
        ],
    )
    proc = run("validate", str(src), "-t", "customer_invoice", "--report", str(tmp_path / "r"))
    assert proc.returncode == 2 and "'Colour' holds values" in proc.stderr  # nothing dropped
    proc = run("validate", str(src), "-t", "customer_invoice", "--report", str(tmp_path / "r"),
               "--skip", "Colour")  # fmt: skip
    assert proc.returncode == 1
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"valid": 1, "invalid": 2}
    assert summary["warnings"][0]["code"] == "skipped-column"
    assert "'Colour'" in summary["warnings"][0]["message"]
    csv_text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "3,Sheet1,1001,invalid,,,Quantity,type,\"Quantity: expected a number, got 'x'\"" in (
        csv_text
    )
    assert "2,Sheet1,1001,invalid,,,,document-invalid,not imported: row 3 of" in csv_text
    assert "4,Sheet1,'=1+2,valid" in csv_text  # a key that looks like a formula stays text

    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "r.xlsx")["Result"]
    rows = list(ws.iter_rows(values_only=True))
    # the input's own columns first, then the result
    assert rows[0] == (*HEADER, "Colour", "row", "status", "Visma number", "HTTP status", "message")
    assert [r[len(HEADER) + 1] for r in rows[1:]] == [2, 3, 4]
    assert rows[3][0] == "=1+2"  # as typed, and text, not a formula
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    quantity = ws.cell(row=3, column=HEADER.index("Quantity") + 1)
    assert quantity.value == "x" and quantity.fill.fgColor.rgb.endswith("FFC7CE")
    assert "expected a number" in quantity.comment.text

    fixme = load_workbook(tmp_path / "r.fixme.xlsx").active
    assert [list(r) for r in fixme.iter_rows(values_only=True)] == [
        [*HEADER, "Colour"],
        ["1001", "10000", "2025-01-27", "222", 5, 12.5, "red"],
        ["1001", "10000", "2025-01-27", "223", "x", 2, "blue"],
    ]
