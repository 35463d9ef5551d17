"""Per-type facts of Visma's API, which the engine reads from each type's schema
(``x-releasable``, ``x-etag``, ``x-line-number``, ``x-read-line-number``):
every type the registry finds states them as the official spec and the
sandbox's own description do, and a schema that gets one wrong stops at load.

The sandbox does not read our schemas (it keeps its own description, written
from the spec), so a fact is checked three ways: schema, sandbox, spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TYPES
from openapi import resolve, spec

from importer.doctypes import DocType, Registry, load_doctype
from importer.errors import DocTypeError
from importer.sandbox.documents import KINDS

# ------------------------------------------------------------ the spec


def _segments(path: str) -> list[str]:
    return ["{}" if s.startswith("{") else s.lower() for s in path.strip("/").split("/")]


def _operation(method: str, path: str) -> dict[str, Any] | None:
    """The spec's operation on ``path``: literal segments compared ignoring
    case, a ``{placeholder}`` matching only a placeholder (so that
    ``/{number}/action/release`` is not met by some ``/{x}/action/{y}``)."""
    want = _segments(path)
    for p, ops in spec()["paths"].items():
        if _segments(p) == want and method.lower() in ops:
            return ops[method.lower()]  # type: ignore[no-any-return]
    return None


def _body_dto(op: dict[str, Any], key: str) -> dict[str, Any]:
    """The schema of an operation's request body (``key`` "request") or of its 200 answer."""
    holder = op["requestBody"] if key == "request" else op["responses"]["200"]
    return resolve(holder["content"]["application/json"]["schema"])


def _document_path(doctype: DocType) -> str | None:
    """Where one document lives: the type's GET or PUT path."""
    for action in ("get", "update"):
        if action in doctype.endpoints:
            return doctype.endpoint(action)[1]
    return None


def _line(dto: dict[str, Any], lines: str) -> dict[str, Any]:
    return resolve(dto["properties"][lines]["items"])


# ------------------------------------------------- schema == the sandbox


@pytest.mark.parametrize("name", TYPES)
def test_the_schema_states_the_facts_the_sandbox_serves(name: str, registry: Registry) -> None:
    doctype, kind = registry.get(name), KINDS[name]
    assert doctype.releasable == kind.releasable, "x-releasable"
    assert doctype.etag == kind.etag, "x-etag"
    assert doctype.line_number == (kind.line_number or ""), "x-line-number"
    assert doctype.read_line_number == (kind.read_line_number or ""), "x-read-line-number"


# ---------------------------------------------------- schema == the spec


@pytest.mark.parametrize("name", TYPES)
def test_releasable_types_are_those_with_a_release_action_in_the_spec(
    name: str, registry: Registry
) -> None:
    doctype = registry.get(name)
    where = _document_path(doctype)
    action = where is not None and _operation("POST", f"{where}/action/release") is not None
    assert doctype.releasable == action, f"x-releasable, POST {where}/action/release"


# ETags the live API gives beyond what the 2025 spec shows: Visma's release
# notes 10.64 to 10.73 (visma-api-notes.md section 7) brought ETag and If-Match
# to customers and customer documents; the spec still shows them for the
# supplier types only.
LIVE_ETAG = {"Customer", "CustomerInvoice", "CustomerCreditNote", "CustomerDebitNote"}


@pytest.mark.parametrize("name", TYPES)
def test_etag_types_are_those_whose_put_takes_if_match(name: str, registry: Registry) -> None:
    # The spec says it in three places for Supplier, SupplierInvoice and
    # PurchaseOrder: the PUT has an If-Match header parameter (and a 412
    # answer), the GET's description says "The response headers include an
    # ETag", and the read DTO has timeStamp. For the customer types the live
    # API says it (LIVE_ETAG), and the spec says none of the three.
    doctype = registry.get(name)
    if "update" not in doctype.endpoints:
        assert not doctype.etag, "x-etag on a type without an update"
        return
    put = _operation(*doctype.endpoint("update"))
    assert put is not None, doctype.endpoints["update"]
    headers = {p["name"].lower() for p in put.get("parameters", []) if p.get("in") == "header"}
    in_spec = "if-match" in headers
    live = doctype.schema.get("x-dto", "").removesuffix("UpdateDto") in LIVE_ETAG
    assert doctype.etag == (in_spec or live), f"x-etag, If-Match on {put['operationId']}"
    assert ("412" in put["responses"]) == in_spec, f"x-etag, 412 of {put['operationId']}"
    if "get" in doctype.endpoints:
        get = _operation(*doctype.endpoint("get"))
        assert get is not None, doctype.endpoints["get"]
        says = "ETag" in get.get("description", "")
        assert says == in_spec, f"ETag in the description of {get['operationId']}"
        read = _body_dto(get, "200")
        assert ("timeStamp" in read["properties"]) == in_spec, "timeStamp"


@pytest.mark.parametrize("name", TYPES)
def test_the_line_number_fields_are_the_spec_line_dtos(name: str, registry: Registry) -> None:
    doctype = registry.get(name)
    if doctype.lines is None:
        assert (doctype.line_number, doctype.read_line_number) == ("", "")
        return
    # The number a PUT's Update and Delete lines name: an int32 of the request line.
    put = _operation(*doctype.endpoint("update"))
    assert put is not None, doctype.endpoints["update"]
    request_line = _line(_body_dto(put, "request"), doctype.lines)
    field = request_line["properties"].get(doctype.line_number)
    assert field is not None, f"x-line-number: {doctype.line_number!r} not in the request line"
    assert resolve(field)["properties"]["value"]["type"] == "integer"
    # The same number as GET answers it (lineNbr on purchase orders).
    get = _operation(*doctype.endpoint("get"))
    assert get is not None, doctype.endpoints["get"]
    read_line = _line(_body_dto(get, "200"), doctype.lines)
    field = read_line["properties"].get(doctype.read_line_number)
    assert field is not None, (
        f"x-read-line-number: {doctype.read_line_number!r} not in the read line"
    )
    assert field["type"] == "integer"


# ------------------------------------------------------ reading the facts


BASE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "x-endpoints": {"create": "POST /v1/x"},
    "properties": {"name": {"type": "string"}, "lines.qty": {"type": "number"}},
}
TEMPLATE = '{"name": {"value": {{ doc.name }}}}'


def _load(tmp_path: Path, **keywords: Any) -> DocType:
    schema = {**BASE, **{k.replace("_", "-"): v for k, v in keywords.items()}}
    (tmp_path / "x.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    (tmp_path / "x.json.j2").write_text(TEMPLATE, encoding="utf-8")
    return load_doctype("x", tmp_path / "x.schema.json", tmp_path / "x.json.j2")


def test_a_type_that_omits_the_facts_gets_the_defaults(tmp_path: Path) -> None:
    plain = _load(tmp_path)
    assert (plain.releasable, plain.etag, plain.line_number, plain.read_line_number) == (
        False,
        False,
        "",
        "",
    )
    lined = _load(tmp_path, x_lines="lines")
    assert (lined.line_number, lined.read_line_number) == ("lineNumber", "lineNumber")
    po_like = _load(tmp_path, x_lines="lines", x_read_line_number="lineNbr")
    assert (po_like.line_number, po_like.read_line_number) == ("lineNumber", "lineNbr")
    stated = _load(tmp_path, x_releasable=True, x_etag=True)
    assert (stated.releasable, stated.etag) == (True, True)


@pytest.mark.parametrize(
    ("keywords", "says"),
    [
        ({"x_releasable": "yes"}, 'x-releasable must be true or false, not "yes"'),
        ({"x_etag": 1}, "x-etag must be true or false, not 1"),
        ({"x_lines": "lines", "x_line_number": 1}, "x-line-number must be the name of a line"),
        ({"x_lines": "lines", "x_line_number": ""}, "x-line-number must be the name of a line"),
        ({"x_lines": "lines", "x_read_line_number": "line no"}, "x-read-line-number must be"),
        ({"x_line_number": "lineNumber"}, "x-line-number is given, but the type has no x-lines"),
        ({"x_release": True}, "unknown keyword 'x-release'; did you mean 'x-releasable'?"),
        ({"x_etags": True}, "unknown keyword 'x-etags'; did you mean 'x-etag'?"),
    ],
)
def test_a_wrong_or_misspelt_fact_stops_the_type_at_load(
    tmp_path: Path, keywords: dict[str, Any], says: str
) -> None:
    with pytest.raises(DocTypeError) as err:
        _load(tmp_path, **keywords)
    assert says in str(err.value)
    assert str(tmp_path / "x.schema.json") in str(err.value)


def test_an_x_keyword_of_ones_own_is_left_alone(tmp_path: Path) -> None:
    assert not _load(tmp_path, x_owner="finance team").releasable
