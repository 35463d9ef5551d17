"""The schema check: jsonschema-rs first, the jsonschema package only for a schema it rejects."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from importer import doctypes
from importer.doctypes import Registry
from importer.errors import DocTypeError


def test_the_built_in_types_load_without_the_jsonschema_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # importing it would fail
    registry = Registry()
    for name in registry.names():
        assert registry.get(name).name == name


@pytest.mark.parametrize(
    ("prop", "where"),
    [
        ({"type": "nope"}, "properties/a/type"),
        ({"type": "string", "pattern": "("}, "properties/a/pattern"),
        ({"type": "string", "pattern": r"\p{L}"}, "properties/a/pattern"),  # Rust's, not Python's
    ],
)
def test_an_invalid_schema_is_said_where_as_before(prop: dict[str, object], where: str) -> None:
    schema = {"type": "object", "properties": {"a": prop}}
    with pytest.raises(DocTypeError, match=f"not a valid JSON Schema at {where}"):
        doctypes._check_meta(schema, Path("x.schema.json"))
