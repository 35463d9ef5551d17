"""Check request bodies against the official Visma.net OpenAPI spec.

The spec lives in ../shared/reference (on every development and CI
machine). A DTO schema is taken as the spec states it, with one tightening:
every object with declared properties rejects properties it does not
declare, so a misspelt or invented field fails the test.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

SPEC_PATH = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "reference"
    / ("visma-net-erp-openapi-v1-2025.json")
)

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?")


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node of the spec with its ``$ref`` (and a lone ``allOf``) followed."""
    schemas = spec()["components"]["schemas"]
    while True:
        if "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in node and "properties" not in node:
            node = node["allOf"][0]
        else:
            return node


def _closed(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _closed(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


@functools.cache
def _closed_components() -> dict[str, Any]:
    return _closed(copy.deepcopy(spec()["components"]))


_checker = FormatChecker(formats=())


@_checker.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.fullmatch(value))


@functools.cache
def dto_validator(dto: str) -> Draft7Validator:
    components = _closed_components()
    if dto not in components["schemas"]:
        raise KeyError(f"{dto} is not a schema of the spec")
    root = {"$ref": f"#/components/schemas/{dto}", "components": components}
    return Draft7Validator(root, format_checker=_checker)


def dto_errors(dto: str, body: Any) -> list[str]:
    """Every way ``body`` departs from the spec's ``dto``; empty when it conforms."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in dto_validator(dto).iter_errors(body)
    ]


def operation(method: str, path: str) -> dict[str, Any] | None:
    """The spec's operation for ``method`` on ``path`` (path segments compared
    case-insensitively, ``{x}`` matching any segment)."""
    want = path.strip("/").lower().split("/")
    for p, ops in spec()["paths"].items():
        parts = p.strip("/").lower().split("/")
        if len(parts) == len(want) and all(
            a == b or (a.startswith("{") and a.endswith("}"))
            for a, b in zip(parts, want, strict=True)
        ):
            op = ops.get(method.lower())
            if op is not None:
                return op  # type: ignore[no-any-return]
    return None


def request_dto(method: str, path: str) -> str | None:
    op = operation(method, path)
    if op is None:
        return None
    content = op.get("requestBody", {}).get("content", {})
    for media in ("application/json", "text/json"):
        ref = content.get(media, {}).get("schema", {}).get("$ref")
        if ref:
            return str(ref.rsplit("/", 1)[-1])
    return None
