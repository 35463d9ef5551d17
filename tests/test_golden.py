"""The official Visma examples, rebuilt from spreadsheet rows field for field."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from conftest import TYPES
from openapi import dto_errors
from records import preview_records

from importer.batch import check
from importer.doctypes import Registry

GOLDEN = Path(__file__).parent / "golden"
# Fields a type adds on purpose beyond Visma's example, each with its reason.
# Supplier invoices always ask Visma to report line errors: without the flag
# it silently drops lines it cannot use (spec: validateLineDetails).
# A purchase order grouped by a Document ID carries it as the supplier's
# reference, which the file leaves empty, so that it can be found again in
# Visma (x-carry-key).
# A document whose number the file gives asks Visma to use it
# (overrideNumberSeries): without it Visma's number series gives another, and
# every lookup by the file's number misses.
_OWN = {"overrideNumberSeries": {"value": True}}
ADDED = {
    "customer": _OWN,
    "supplier": _OWN,
    "customer_invoice": _OWN,
    "customer_credit_note": _OWN,
    "customer_debit_note": _OWN,
    "supplier_invoice": {"validateLineDetails": {"value": True}, **_OWN},
    "purchase_order": {"supplierRef": {"value": "PO-1"}},
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def same(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Field-for-field comparison; dates may carry a time part, numbers that
    the example wrote as strings must arrive as numbers."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        diffs = [f"{path}/{k}: missing" for k in expected if k not in actual]
        diffs += [f"{path}/{k}: unexpected {actual[k]!r}" for k in actual if k not in expected]
        for k in expected:
            if k in actual:
                diffs += same(expected[k], actual[k], f"{path}/{k}")
        return diffs
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in same(e, a, f"{path}/{i}")
        ]
    if isinstance(expected, str) and _DATE.match(expected) and isinstance(actual, str):
        return [] if actual[:10] == expected[:10] else [f"{path}: {actual!r} != {expected!r}"]
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        try:
            ok = Decimal(str(expected)) == Decimal(str(actual))
        except InvalidOperation:
            ok = False
        return [] if ok else [f"{path}: {actual!r} != {expected!r}"]
    return [] if expected == actual else [f"{path}: {actual!r} != {expected!r}"]


@pytest.mark.parametrize("name", TYPES)
def test_seed_example_comes_out_field_for_field(name: str, registry: Registry) -> None:
    doctype = registry.get(name)
    prepared = check(GOLDEN / f"{name}.csv", doctype)
    records = list(preview_records(prepared))
    assert len(records) == 1, [str(i) for r in prepared.rows for i in r.issues]
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    expected.update(ADDED.get(name, {}))
    assert same(expected, records[0]["body"]) == []
    assert dto_errors(doctype.schema["x-dto"], records[0]["body"]) == []
