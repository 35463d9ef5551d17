"""Write importer/sandbox/dtos.json: the request DTOs the sandbox checks, from the spec.

The sandbox may not read the official OpenAPI spec at run time, so it carries
its own description of the request bodies it accepts. This script derives that
description from the spec; tests/test_sandbox_dtos.py regenerates it and
compares, so the committed file cannot drift from the spec. Run after changing
REQUESTS or updating the spec:

    python scripts/describe_dtos.py [SPEC]

Format of dtos.json: ``{"requests": [top-level DTO names], "schemas": {name:
{field: descriptor}}}``, one field per line. A descriptor is one of

* ``"string"``, ``"number"``, ``"int32"``, ``"boolean"``, ``"datetime"``,
  ``"uuid"``, ``"base64"``: a plain JSON scalar of that kind;
* ``{"enum": [...]}``: a plain string, one of the listed values;
* ``{"object": "Name"}``: a plain nested object of schema ``Name``;
* ``{"array": "Name"}``: an array of objects of schema ``Name``;
* ``{"value": d}``: Visma's wrapper ``{"value": ...}`` around ``d``, which is
  a scalar kind, an enum or an object descriptor.

The spec wraps fields through schemas such as ``DtoValueOfString`` or
``postPeriodInCustomerInvoiceUpdateDto``; any object schema whose only
property is ``value`` is such a wrapper and is folded into the field's
descriptor rather than listed as a schema. Anything the description cannot
express stops the script with an error instead of being approximated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "reference" / "visma-net-erp-openapi-v1-2025.json"
OUT = ROOT / "importer" / "sandbox" / "dtos.json"

# The request bodies of the endpoints vnimport posts to.
REQUESTS = (
    "CustomerUpdateDto",
    "SupplierUpdateDto",
    "CustomerInvoiceUpdateDto",
    "CustomerCreditNoteUpdateDto",
    "CustomerDebitNoteUpdateDto",
    "SupplierInvoiceUpdateDto",
    "PurchaseOrderUpdateDto",
)

# (type, format) of a spec scalar -> the description's kind.
SCALARS: dict[tuple[Any, Any], str] = {
    ("string", None): "string",
    ("string", "date-time"): "datetime",
    ("string", "uuid"): "uuid",
    ("string", "byte"): "base64",
    ("number", None): "number",
    ("number", "double"): "number",
    ("number", "float"): "number",
    ("integer", None): "int32",
    ("integer", "int32"): "int32",
    ("boolean", None): "boolean",
}
# Keys of a schema that carry no constraint on a request body.
NOTES = {"description", "example", "title"}


class SpecError(ValueError):
    """The spec uses a construct the description cannot express."""


def _ref_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise SpecError(f"unsupported $ref {ref!r}")
    return ref[len(prefix) :]


def _check_keys(node: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = set(node) - allowed - NOTES
    if extra:
        raise SpecError(f"{where}: unsupported keys {sorted(extra)}")


class _Describer:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.out: dict[str, dict[str, Any]] = {}
        self.todo: list[str] = []

    def _schema(self, name: str) -> dict[str, Any]:
        if name not in self.schemas:
            raise SpecError(f"schema {name} is not in the spec")
        node = self.schemas[name]
        if not isinstance(node, dict):
            raise SpecError(f"schema {name} is not an object")
        return node

    def is_wrapper(self, name: str) -> bool:
        node = self._schema(name)
        props = node.get("properties")
        return (
            node.get("type", "object") == "object"
            and isinstance(props, dict)
            and list(props) == ["value"]
        )

    def _object(self, name: str, where: str) -> dict[str, str]:
        node = self._schema(name)
        if node.get("type", "object") != "object" or "properties" not in node:
            raise SpecError(f"{where}: {name} is not an object schema")
        if name not in self.out and name not in self.todo:
            self.todo.append(name)
        return {"object": name}

    def value(self, node: dict[str, Any], where: str) -> Any:
        """The descriptor of a value that is not itself wrapped."""
        if "$ref" in node:
            _check_keys(node, {"$ref"}, where)
            name = _ref_name(node["$ref"])
            if self.is_wrapper(name):
                raise SpecError(f"{where}: wrapper {name} inside a wrapper")
            return self._object(name, where)
        _check_keys(node, {"type", "format", "enum"}, where)
        kind = SCALARS.get((node.get("type"), node.get("format")))
        if kind is None:
            raise SpecError(f"{where}: unsupported type {node.get('type')}/{node.get('format')}")
        if "enum" in node:
            values = node["enum"]
            if kind != "string" or not all(isinstance(v, str) for v in values):
                raise SpecError(f"{where}: only enums of strings are supported")
            return {"enum": list(values)}
        return kind

    def field(self, node: dict[str, Any], where: str) -> Any:
        if "$ref" in node:
            _check_keys(node, {"$ref"}, where)
            name = _ref_name(node["$ref"])
            if self.is_wrapper(name):
                wrapper = self._schema(name)
                _check_keys(wrapper, {"type", "properties"}, name)
                return {"value": self.value(wrapper["properties"]["value"], f"{name}.value")}
            return self._object(name, where)
        if node.get("type") == "array":
            _check_keys(node, {"type", "items"}, where)
            items = node.get("items", {})
            item = self.value(items, f"{where}[]") if isinstance(items, dict) else None
            if not (isinstance(item, dict) and "object" in item):
                raise SpecError(f"{where}: only arrays of objects are supported")
            return {"array": item["object"]}
        return self.value(node, where)

    def run(self, roots: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        for root in roots:
            self._object(root, root)
        while self.todo:
            name = self.todo.pop()
            node = self._schema(name)
            _check_keys(node, {"type", "properties"}, name)
            self.out[name] = {
                prop: self.field(sub, f"{name}.{prop}") for prop, sub in node["properties"].items()
            }
        return self.out


def describe(spec: dict[str, Any], roots: tuple[str, ...] = REQUESTS) -> dict[str, Any]:
    """The description of ``roots`` and every schema they reach, from ``spec``."""
    schemas = _Describer(spec["components"]["schemas"]).run(roots)
    return {"requests": list(roots), "schemas": {k: schemas[k] for k in sorted(schemas)}}


def render(description: dict[str, Any]) -> str:
    """dtos.json's text: keys sorted, one field per line."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    blocks = []
    for name, fields in sorted(description["schemas"].items()):
        body = ",\n".join(f"   {dump(k)}: {dump(fields[k])}" for k in sorted(fields))
        blocks.append(f"  {dump(name)}: {{\n{body}\n  }}")
    schemas = ",\n".join(blocks)
    return (
        f'{{\n "requests": {dump(description["requests"])},\n "schemas": {{\n{schemas}\n }}\n}}\n'
    )


def main(argv: list[str]) -> int:
    spec_path = Path(argv[0]) if argv else SPEC
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    text = render(describe(spec))
    assert json.loads(text) == describe(spec)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {text.count(chr(10))} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
