"""The sandbox's description of Visma's request DTOs, and the checks built on it.

The sandbox may not read the official spec at run time, so it carries
importer/sandbox/dtos.json. These tests hold that file to the spec: it must be
exactly what scripts/describe_dtos.py derives from the spec, the bodies vnimport
sends must pass, and on mutated bodies check_body must find an error exactly
when the spec-based validator (tests/openapi.py) does, apart from the listed,
deliberate differences.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, TYPES
from openapi import dto_errors, spec
from records import preview_records

from importer.batch import check
from importer.doctypes import Registry
from importer.sandbox.dtos import DTO_NAMES, SCHEMAS, check_body

GOLDEN = Path(__file__).parent / "golden"
DTOS_JSON = ROOT / "importer" / "sandbox" / "dtos.json"


def _generator() -> ModuleType:
    path = ROOT / "scripts" / "describe_dtos.py"
    module_spec = importlib.util.spec_from_file_location("describe_dtos", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _dto(registry: Registry, name: str) -> str:
    return str(registry.get(name).schema["x-dto"])


def _golden_preview(registry: Registry, name: str) -> dict[str, Any]:
    records = list(preview_records(check(GOLDEN / f"{name}.csv", registry.get(name))))
    assert len(records) == 1
    body: dict[str, Any] = records[0]["body"]
    return body


def _invoice() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((GOLDEN / "customer_invoice.json").read_text("utf-8"))
    line = body["invoiceLines"][0]
    body["invoiceLines"] = [copy.deepcopy(line) for _ in range(4)]
    return body


# -- the description is the spec's ---------------------------------------------------


def test_description_is_regenerated_from_the_spec_exactly() -> None:
    gen = _generator()
    assert gen.render(gen.describe(spec())) == DTOS_JSON.read_text(encoding="utf-8"), (
        "dtos.json drifted from the spec: run `python scripts/describe_dtos.py`"
    )


def test_every_document_type_posts_a_described_dto(registry: Registry) -> None:
    assert sorted(DTO_NAMES) == sorted(_dto(registry, name) for name in TYPES)


def test_description_keeps_the_spec_distinctions() -> None:
    invoice = SCHEMAS["CustomerInvoiceUpdateDto"]
    assert invoice["customerNumber"] == {"value": "string"}
    assert invoice["documentDate"] == {"value": "datetime"}
    assert invoice["invoiceLines"] == {"array": "CustomerInvoiceLinesUpdateDto"}
    assert invoice["billingAddress"] == {"value": {"object": "SalesInvoiceAddressUpdateDto"}}
    assert invoice["rotRutDetails"] == {"object": "RotRutUpdateDto"}
    assert invoice["overrideNumberSeries"] == {"value": "boolean"}
    line = SCHEMAS["CustomerInvoiceLinesUpdateDto"]
    assert line["operation"] == {"enum": ["Insert", "Update", "Delete"]}
    assert line["quantity"] == {"value": "number"}
    assert SCHEMAS["PurchaseOrderUpdateDto"]["timeStamp"] == "base64"
    assert SCHEMAS["SegmentUpdateDto"] == {"segmentId": "int32", "segmentValue": "string"}


def test_generator_refuses_what_it_cannot_express() -> None:
    gen = _generator()
    odd = {
        "components": {
            "schemas": {
                "ADto": {"type": "object", "properties": {"x": {"type": "string", "pattern": "a"}}}
            }
        }
    }
    with pytest.raises(gen.SpecError, match=r"ADto\.x"):
        gen.describe(odd, ("ADto",))


# -- what vnimport sends passes ---------------------------------------------------------


@pytest.mark.parametrize("name", TYPES)
def test_golden_bodies_pass(name: str, registry: Registry) -> None:
    body = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert check_body(_dto(registry, name), body) == []
    assert check_body(_dto(registry, name), _golden_preview(registry, name)) == []


@pytest.mark.parametrize("name", TYPES)
def test_sample_previews_pass(name: str, registry: Registry, samples_dir: Path) -> None:
    doctype = registry.get(name)
    records = list(preview_records(check(samples_dir / f"{name}.csv", doctype)))
    assert records
    for record in records:
        assert check_body(_dto(registry, name), record["body"]) == [], record["key"]


# -- what it rejects, naming the field ---------------------------------------------------


def _set(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    node: Any = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


REJECTED: list[tuple[tuple[str | int, ...], Any, str]] = [
    (("bogusField",), 1, "bogusField: unknown field"),
    (("invoiceLines", 2, "bogus"), "x", "invoiceLines[2].bogus: unknown field"),
    (
        ("invoiceLines", 1, "quantity", "value"),
        "abc",
        'invoiceLines[1].quantity.value: expected a number, got "abc"',
    ),
    (("customerNumber",), "10000", 'customerNumber: expected {"value": ...}, got "10000"'),
    (
        ("invoiceLines", 0, "operation"),
        "Upsert",
        'invoiceLines[0].operation: "Upsert" is not one of Insert, Update, Delete',
    ),
    (
        ("invoiceLines",),
        {"operation": "Insert"},
        'invoiceLines: expected an array of objects, got {"operation": "Insert"}',
    ),
    (("invoiceLines", 3), "Insert", 'invoiceLines[3]: expected an object, got "Insert"'),
    (("customerNumber", "valeu"), "1", "customerNumber.valeu: unknown field"),
    (("customerNumber", "value"), 10000, "customerNumber.value: expected a string, got 10000"),
    (
        ("documentDate", "value"),
        "27.01.2025",
        'documentDate.value: expected a date as yyyy-mm-dd[Thh:mm[:ss][zone]], got "27.01.2025"',
    ),
    (
        ("documentDate", "value"),
        "2025-02-30",
        'documentDate.value: "2025-02-30" is not a valid date',
    ),
    (("hold",), {"value": "true"}, 'hold.value: expected true or false, got "true"'),
    (("quantity",), {"value": 1}, "quantity: unknown field"),
    (
        ("invoiceLines", 0, "quantity", "value"),
        True,
        "invoiceLines[0].quantity.value: expected a number, got true",
    ),
    (
        ("invoiceLines", 0, "lineNumber"),
        {"value": 1.5},
        "invoiceLines[0].lineNumber.value: expected a whole number, got 1.5",
    ),
    (
        ("invoiceLines", 0, "lineNumber"),
        {"value": 2**31},
        "invoiceLines[0].lineNumber.value: 2147483648 is out of range for a 32-bit integer",
    ),
    (
        ("invoiceLines", 0, "lineNumber"),
        {"value": "1.0"},
        'invoiceLines[0].lineNumber.value: expected a whole number, got "1.0"',
    ),
    (
        ("billingAddress",),
        {"value": {"city": {"value": "Oslo"}, "town": {"value": "x"}}},
        "billingAddress.value.town: unknown field",
    ),
    (
        ("rotRutDetails",),
        {"distribution": [{"amount": {"value": "x"}}]},
        'rotRutDetails.distribution[0].amount.value: expected a number, got "x"',
    ),
    (("rotRutDetails",), {"value": {}}, "rotRutDetails.value: unknown field"),
    (
        ("invoiceLines", 0, "subaccount"),
        [{"segmentId": "one", "segmentValue": "00"}],
        'invoiceLines[0].subaccount[0].segmentId: expected a whole number, got "one"',
    ),
]


@pytest.mark.parametrize(("path", "value", "message"), REJECTED)
def test_rejects_naming_the_field(path: tuple[str | int, ...], value: Any, message: str) -> None:
    body = _set(_invoice(), path, value)
    assert check_body("CustomerInvoiceUpdateDto", body) == [message]


def test_reports_every_error_at_once() -> None:
    body = _invoice()
    body["bogus"] = 1
    body["invoiceLines"][1]["quantity"] = {"value": "many"}
    body["invoiceLines"][3]["operation"] = "insert"
    assert check_body("CustomerInvoiceUpdateDto", body) == [
        'invoiceLines[1].quantity.value: expected a number, got "many"',
        'invoiceLines[3].operation: "insert" is not one of Insert, Update, Delete',
        "bogus: unknown field",
    ]


@pytest.mark.parametrize("body", [[], "x", None, 3])
def test_rejects_a_body_that_is_not_an_object(body: Any) -> None:
    assert [m.split(":")[0] for m in check_body("CustomerUpdateDto", body)] == ["(body)"]


def test_unknown_dto_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        check_body("InventoryUpdateDto", {})


ACCEPTED: list[tuple[tuple[str | int, ...], Any]] = [
    (("customerNumber",), None),
    (("customerNumber", "value"), None),
    (("invoiceLines", 0, "quantity"), None),
    (("invoiceLines", 0, "quantity", "value"), None),
    (("invoiceLines",), None),
    (("invoiceLines",), []),
    (("invoiceLines", 0, "quantity", "value"), "1.60"),
    (("invoiceLines", 0, "quantity", "value"), -2.5e3),
    (("invoiceLines", 0, "lineNumber"), {"value": "7"}),
    (("invoiceLines", 0, "lineNumber"), {"value": 7.0}),
    (("documentDate", "value"), "2025-01-27T09:46:11.202Z"),
    (("documentDate", "value"), "2025-01-27T09:46+01:00"),
    (("customerNumber",), {}),
    (("hold",), {"value": False}),
    (("rotRutDetails",), {"type": {"value": "Rot"}, "distribution": []}),
]


@pytest.mark.parametrize(("path", "value"), ACCEPTED)
def test_accepts(path: tuple[str | int, ...], value: Any) -> None:
    assert check_body("CustomerInvoiceUpdateDto", _set(_invoice(), path, value)) == []


def test_uuid_and_base64_fields() -> None:
    debit = {"directDebitLines": [{"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}]}
    assert check_body("CustomerUpdateDto", debit) == []
    debit["directDebitLines"][0]["id"] = "3fa85f64"
    assert check_body("CustomerUpdateDto", debit) == [
        'directDebitLines[0].id: expected a UUID, got "3fa85f64"'
    ]
    assert check_body("PurchaseOrderUpdateDto", {"timeStamp": "AAAAAAAPQkA="}) == []
    assert check_body("PurchaseOrderUpdateDto", {"timeStamp": "not base64!"}) == [
        'timeStamp: expected base64 text, got "not base64!"'
    ]


def test_fast_enough_for_every_request() -> None:
    body = _invoice()
    check_body("CustomerInvoiceUpdateDto", body)
    runs = 2000
    start = time.perf_counter()
    for _ in range(runs):
        check_body("CustomerInvoiceUpdateDto", body)
    per_call = (time.perf_counter() - start) / runs
    assert per_call < 100e-6, f"{per_call * 1e6:.1f} µs per 4-line invoice"


# -- the same verdicts as the spec -------------------------------------------------------

# How the two validators are expected to judge a mutated body.
BOTH, NEITHER = (True, True), (False, False)
SANDBOX_ONLY, SPEC_ONLY = (True, False), (False, True)

WRONG = {
    "string": 12345,
    "number": "abc",
    "int32": 1.5,
    "boolean": "yes",
    "datetime": "27.01.2025",
}
NUMERIC_STRING = {"number": "12.50", "int32": "7"}


def _spec_wrapper_is_typed(schema: str, field: str) -> bool:
    """Whether the spec's wrapper schema of ``schema.field`` says ``type: object``:
    where it does not, the spec lets any non-object through in the wrapper's
    place, which Visma's deserializer does not."""
    schemas = spec()["components"]["schemas"]
    ref = schemas[schema]["properties"][field]["$ref"]
    return bool(schemas[ref.rsplit("/", 1)[-1]].get("type") == "object")


def _mutations(
    body: dict[str, Any], schema: str, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str, tuple[str | int, ...], Any, tuple[bool, bool]]]:
    """(label, path, new value, expected verdicts) for every field present in ``body``."""
    yield f"{schema}+bogus", (*path, "bogusField"), 1, BOTH
    for field, value in body.items():
        desc = SCHEMAS[schema][field]
        at = (*path, field)
        label = f"{schema}.{field}"
        if value is None:
            continue
        if isinstance(desc, dict) and "value" in desc:
            inner = desc["value"]
            typed = _spec_wrapper_is_typed(schema, field)
            unwrapped = value.get("value")
            if isinstance(unwrapped, dict):
                yield f"{label} unwrapped", at, unwrapped, BOTH
            elif unwrapped is not None:
                yield f"{label} unwrapped", at, unwrapped, BOTH if typed else SANDBOX_ONLY
            yield f"{label} +key", (*at, "extra"), 1, BOTH
            yield f"{label} null", at, None, SPEC_ONLY if typed else NEITHER
            yield f"{label} value null", (*at, "value"), None, SPEC_ONLY
            if isinstance(inner, str):
                yield f"{label} wrong", (*at, "value"), WRONG[inner], BOTH
                if inner in NUMERIC_STRING:
                    yield (
                        f"{label} numeric string",
                        (*at, "value"),
                        NUMERIC_STRING[inner],
                        SPEC_ONLY,
                    )
            elif "enum" in inner:
                yield f"{label} bad enum", (*at, "value"), "Bogus", BOTH
            elif "object" in inner and isinstance(value.get("value"), dict):
                yield from _mutations(value["value"], inner["object"], (*at, "value"))
        elif isinstance(desc, dict) and "array" in desc:
            yield f"{label} not array", at, {}, BOTH
            if value:
                yield f"{label} item not object", (*at, 0), 1, BOTH
            if value and isinstance(value[0], dict):
                yield from _mutations(value[0], desc["array"], (*at, 0))
        elif isinstance(desc, dict) and "object" in desc:
            yield f"{label} not object", at, [], BOTH
            yield from _mutations(value, desc["object"], at)
        elif isinstance(desc, dict) and "enum" in desc:
            yield f"{label} bad enum", at, "Bogus", BOTH
        else:
            yield f"{label} wrong", at, WRONG.get(desc, []), BOTH


@pytest.mark.parametrize("name", TYPES)
def test_same_verdicts_as_the_spec_on_mutated_bodies(name: str, registry: Registry) -> None:
    dto = _dto(registry, name)
    body = _golden_preview(registry, name)
    assert (bool(check_body(dto, body)), bool(dto_errors(dto, body))) == NEITHER
    mismatches = []
    count = 0
    for label, path, value, expected in _mutations(body, dto):
        mutated = _set(copy.deepcopy(body), path, value)
        got = (bool(check_body(dto, mutated)), bool(dto_errors(dto, mutated)))
        count += 1
        if got != expected:
            mismatches.append(f"{label}: sandbox/spec found errors {got}, expected {expected}")
    assert count >= 20
    assert mismatches == []
