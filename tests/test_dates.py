"""Dates as they arrive: Excel cells, Excel date numbers, and text in local forms."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_csv, write_xlsx
from records import preview_records

from importer.batch import check, validation_report
from importer.doctypes import Registry
from importer.mapping.dates import AmbiguousDates, DateError, column_order, from_serial, parse_date


@pytest.mark.parametrize(
    ("text", "order", "date"),
    [
        ("2025-01-31", "dmy", dt.date(2025, 1, 31)),
        ("31.01.2025", "dmy", dt.date(2025, 1, 31)),
        ("1.2.25", "dmy", dt.date(2025, 2, 1)),
        ("31/01/2025", "dmy", dt.date(2025, 1, 31)),
        ("01/31/2025", "mdy", dt.date(2025, 1, 31)),
        ("2/1/99", "mdy", dt.date(1999, 2, 1)),
    ],
)
def test_text_dates(text: str, order: str, date: dt.date) -> None:
    assert parse_date(text, order) == date


@pytest.mark.parametrize("text", ["30.02.2025", "31/04/2025", "2025-13-01", "tomorrow", "1.2"])
def test_not_dates(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text)


def test_excel_date_numbers() -> None:
    assert from_serial(45688) == dt.date(2025, 1, 31)
    assert from_serial(45688.75) == dt.date(2025, 1, 31)  # the time of day is dropped
    with pytest.raises(DateError):
        from_serial(-3)


def test_a_column_settles_its_slash_order() -> None:
    assert column_order(["03/04/2025", "13/04/2025"]) == "dmy"
    assert column_order(["03/04/2025", "04/13/2025"]) == "mdy"
    assert column_order(["2025-01-31", "31.01.2025"]) is None
    with pytest.raises(AmbiguousDates):
        column_order(["03/04/2025", "05/06/2025"])
    with pytest.raises(AmbiguousDates) as mixed:
        column_order(["13/04/2025", "04/13/2025"])
    assert mixed.value.other == "04/13/2025"


HEADER = ["Invoice number", "Customer number", "Invoice date", "Item number"]


def _dates(path: Path, **kw: str) -> list[str]:
    prepared = check(path, Registry().get("customer_invoice"), **kw)
    return [r["body"]["documentDate"]["value"][:10] for r in preview_records(prepared)]


def test_dates_in_a_file_by_their_column(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["1", "10000", "13/04/2025", "A"],
        ["2", "10000", "03/04/2025", "A"],
        ["3", "10000", "1.2.25", "A"],
    ]
    assert _dates(write_csv(tmp_path / "a.csv", rows)) == ["2025-04-13", "2025-04-03", "2025-02-01"]
    rows = [HEADER, ["1", "10000", "03/04/2025", "A"]]
    src = write_csv(tmp_path / "b.csv", rows)
    proc = subprocess.run(
        [sys.executable, "-m", "importer", "validate", str(src), "-t", "customer_invoice"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "'Invoice date'" in proc.stderr and "--locale" in proc.stderr
    assert _dates(src, locale="en_US") == ["2025-03-04"]
    assert _dates(src, locale="nb_NO") == ["2025-04-03"]


def test_excel_date_numbers_and_impossible_dates_in_a_workbook(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "in.xlsx",
        [
            HEADER,
            ["1", "10000", 45688, "A"],
            ["2", "10000", "30.02.2025", "A"],
            ["3", "10000", dt.date(2025, 3, 1), "A"],
        ],
    )
    prepared = check(path, Registry().get("customer_invoice"))
    results = {r.row: r for r in validation_report(prepared).results}
    assert [i.code for i in results[3].issues] == ["invalid-date"]
    assert "'30.02.2025' is not a real date" in results[3].issues[0].message
    assert [r["body"]["documentDate"]["value"][:10] for r in preview_records(prepared)] == [
        "2025-01-31",
        "2025-03-01",
    ]


def test_periods_keep_their_leading_zero(tmp_path: Path) -> None:
    rows = [
        ["Debit note number", "Customer number", "Date", "Item", "Post period"],
        ["1", "10000", "2025-01-16", "A", "012025"],
    ]
    [record] = preview_records(
        check(write_csv(tmp_path / "p.csv", rows), Registry().get("customer_debit_note"))
    )
    assert record["body"]["postPeriod"] == {"value": "012025"}
