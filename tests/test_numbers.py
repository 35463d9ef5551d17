"""Numbers as accountants write them: decided per column, never guessed."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import write_csv
from hypothesis import given
from hypothesis import strategies as st
from records import preview_records

from importer.batch import check
from importer.doctypes import Registry
from importer.mapping.numbers import (
    AmbiguousColumn,
    NumberError,
    column_decimal,
    evidence,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "decimal", "value"),
    [
        ("1234,50", ",", 1234.5),
        ("1 234,50", ",", 1234.5),
        ("1\u00a0234,50", ",", 1234.5),
        ("1.234,50", ",", 1234.5),
        ("1'234.50", ".", 1234.5),
        ("1,234.50", ".", 1234.5),
        ("-12,5", ",", -12.5),
        ("12,5-", ",", -12.5),
        ("(12,5)", ",", -12.5),
        ("\u221212.5", ".", -12.5),
        ("+3", ".", 3.0),
        ("0,125", ",", 0.125),
        ("1.234.567", ",", 1234567.0),
        ("1,234,567", ".", 1234567.0),
        # whole kroner: the dash stands for the zero øre, it is no minus
        ("1 250,-", ",", 1250.0),
        ("1250,-", ",", 1250.0),
        ("kr 1 250,-", ",", 1250.0),
        ("1 250 kr", ",", 1250.0),
        ("1.250,-", ",", 1250.0),
        ("1 250,\u2013", ",", 1250.0),
        ("-1 250,-", ",", -1250.0),
        ("(1 250,-)", ",", -1250.0),
        ("kr -1 250,-", ",", -1250.0),
        ("125.-", ".", 125.0),
        ("1,250.-", ".", 1250.0),
        # a trailing minus, as accounting systems print negatives
        ("1250-", ",", -1250.0),
        ("1 250,00-", ",", -1250.0),
    ],
)
def test_parse_number(text: str, decimal: str, value: float) -> None:
    assert parse_number(text, decimal) == value


@pytest.mark.parametrize(
    ("text", "decimal"),
    [("1.23.4", ","), ("12,34,5", "."), ("1,2,3", ","), ("abc", "."), ("1 2 3,,4", ",")],
)
def test_not_numbers(text: str, decimal: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text, decimal)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("-1250-", "type.number-signs"),  # not 1250 with its minuses cancelling out
        ("(-5)", "type.number-signs"),
        ("(5-)", "type.number-signs"),
        ("+5-", "type.number-signs"),
        ("-1 250,--", "type.number-signs"),
    ],
)
def test_two_signs_are_refused_not_cancelled_out(text: str, key: str) -> None:
    with pytest.raises(NumberError) as refused:
        parse_number(text, ".")
    assert refused.value.key == key


def test_a_whole_amount_written_another_way_is_no_number() -> None:
    for text, decimal in (("1,5,-", ","), ("1 250,-", "."), ("1.250.-", ",")):
        with pytest.raises(ValueError):
            parse_number(text, decimal)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1,5", ","),
        ("1.5", "."),
        ("1,234", "ambiguous"),
        ("1.234", "ambiguous"),
        ("1 234,567", ","),
        ("0,125", ","),
        ("1234,567", ","),
        ("1.234,5", ","),
        ("1,234.5", "."),
        ("1.234.567", ","),
        ("1234", None),
        ("(5)", None),
        ("1 250,-", ","),
        ("1.250,-", ","),
        ("125.-", "."),
        ("1250-", None),
    ],
)
def test_what_one_value_says(text: str, says: str | None) -> None:
    assert evidence(text) == says


def test_a_column_decides_from_all_its_values() -> None:
    assert column_decimal(["1,234", "12,5"]) == ","  # 12,5 settles it
    assert column_decimal(["17", "(5)"]) is None  # nothing to decide from: any reading
    with pytest.raises(AmbiguousColumn):
        column_decimal(["1,234", "2,345", "17"])
    with pytest.raises(AmbiguousColumn) as mixed:
        column_decimal(["1,5", "2.5"])
    assert mixed.value.mixed == "2.5"


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_norwegian_and_english_formatting_round_trip(amount: Decimal) -> None:
    english = f"{amount:,.2f}"  # -1,234,567.89
    norwegian = english.replace(",", " ").replace(".", ",")  # -1 234 567,89
    assert Decimal(str(parse_number(english, "."))) == amount
    assert Decimal(str(parse_number(norwegian, ","))) == amount
    assert Decimal(str(parse_number(f"({english.lstrip('-')})", "."))) == -abs(amount)


HEADER = [
    "Invoice number",
    "Customer number",
    "Invoice date",
    "Item number",
    "Quantity",
    "Unit price",
]


def _prices(tmp_path: Path, prices: list[str], **kw: str) -> list[float]:
    rows = [HEADER] + [["1", "10000", "2025-01-27", f"V{i}", "1", p] for i, p in enumerate(prices)]
    src = write_csv(tmp_path / "in.csv", rows)
    [record] = preview_records(check(src, Registry().get("customer_invoice"), **kw))
    return [line["unitPriceInCurrency"]["value"] for line in record["body"]["invoiceLines"]]


def test_a_norwegian_column_is_read_with_its_decimal_comma(tmp_path: Path) -> None:
    assert _prices(tmp_path, ["1 234,50", "1.234", "12,5", "(3,25)"]) == [1234.5, 1234, 12.5, -3.25]


def test_an_english_column_is_read_with_its_decimal_point(tmp_path: Path) -> None:
    assert _prices(tmp_path, ["1,234.50", "1,234", "12.5"]) == [1234.5, 1234, 12.5]


def test_an_ambiguous_column_stops_the_file_and_asks_for_a_locale(tmp_path: Path) -> None:
    rows = [HEADER, ["1", "10000", "2025-01-27", "V", "1", "1,234"]]
    src = write_csv(tmp_path / "in.csv", rows)
    proc = subprocess.run(
        [sys.executable, "-m", "importer", "validate", str(src), "-t", "customer_invoice"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "'Unit price'" in proc.stderr and "--locale" in proc.stderr
    for locale, price in (("nb_NO", 1.234), ("en_GB", 1234)):
        assert _prices(tmp_path, ["1,234"], locale=locale) == [price]


def test_a_column_mixing_formats_stops_the_file(tmp_path: Path) -> None:
    from importer.errors import ColumnError

    with pytest.raises(ColumnError, match="mixes number formats"):
        _prices(tmp_path, ["1,5", "2.5"])


def test_an_unknown_locale_is_a_clear_error(tmp_path: Path) -> None:
    from importer.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown locale 'xx_XX'"):
        _prices(tmp_path, ["1"], locale="xx_XX")


def test_whole_kroner_written_with_a_dash_are_read_as_whole_not_negative(tmp_path: Path) -> None:
    """A Norwegian accountant's ``1 250,-`` is 1250 kroner: it was read as
    -1250 and sent."""
    prices = ["1 250,-", "kr 1 250,-", "-1 250,-", "12,50", "1250-"]
    assert _prices(tmp_path, prices) == [1250, 1250, -1250, 12.5, -1250]
    assert _prices(tmp_path, ["1.250,-", "1 250,-"], locale="da_DK") == [1250, 1250]
    assert _prices(tmp_path, ["1 250,-"], locale="nb_NO") == [1250]


def test_a_price_with_two_signs_is_refused_on_its_cell(tmp_path: Path) -> None:
    rows = [HEADER, ["1", "10000", "2025-01-27", "V", "1", "-1 250-"]]
    prepared = check(write_csv(tmp_path / "in.csv", rows), Registry().get("customer_invoice"))
    [issue] = [i for r in prepared.rows for i in r.issues if i.column == "Unit price"]
    assert issue.severity == "error" and issue.code == "type"
    assert "'-1 250-' has more than one sign" in issue.message
    assert "-1250, 1250- or (1250)" in issue.message


def test_a_whole_amount_with_a_comma_in_a_column_of_decimal_points_stops_the_file(
    tmp_path: Path,
) -> None:
    from importer.errors import ColumnError

    with pytest.raises(ColumnError, match="mixes number formats"):
        _prices(tmp_path, ["1 250,-", "12.50"])
    with pytest.raises(ColumnError, match="en_GB does not write"):
        _prices(tmp_path, ["1 250,-"], locale="en_GB")
