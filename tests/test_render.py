"""The render stage alone: filters, JSON encoding, empty members, both engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TYPES
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.batch import check
from importer.doctypes import Registry, load_doctype
from importer.errors import DocTypeError
from importer.render.engine import (
    NUL,
    datetime_filter,
    finish,
    json_literal,
    prune,
    segments_filter,
)


def test_datetime_filter_adds_midnight_and_keeps_none() -> None:
    assert datetime_filter("2025-01-27") == "2025-01-27T00:00:00"
    assert datetime_filter("2025-01-27T10:00:00") == "2025-01-27T10:00:00"
    assert datetime_filter(None) is None


def test_segments_filter_orders_segments_and_drops_empty_ones() -> None:
    assert json.loads(segments_filter({"2": "100", "1": "00", "3": None})) == [
        {"segmentId": 1, "segmentValue": "00"},
        {"segmentId": 2, "segmentValue": "100"},
    ]
    assert segments_filter({"1": None}) is None
    assert segments_filter(None) is None
    assert json.loads(segments_filter({"1": 'a"b'})) == [{"segmentId": 1, "segmentValue": 'a"b'}]


@given(st.text())
def test_json_literal_of_any_text_is_one_json_string_without_a_raw_nul(text: str) -> None:
    literal = json_literal(text)
    assert json.loads(literal) == text
    assert NUL not in literal


def test_json_literal_of_numbers_and_none() -> None:
    assert json_literal(500) == "500"
    assert json_literal(1.6) == "1.6"
    assert json_literal(True) == "true"
    assert json_literal(None) == NUL
    with pytest.raises(ValueError):
        json_literal(float("nan"))


_keys = st.from_regex(r"[a-z][A-Za-z0-9]{0,8}", fullmatch=True)
_scalars = st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 5), st.booleans())
_bodies = st.recursive(
    st.dictionaries(_keys, st.one_of(_scalars, st.fixed_dictionaries({"value": _scalars}))),
    lambda inner: st.dictionaries(_keys, st.one_of(inner, st.lists(inner, max_size=3))),
    max_leaves=12,
)


def _emit(value: Any) -> str:
    """JSON text as a template writes it: every None as the NUL marker."""
    if value is None:
        return NUL
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_emit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_emit(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=300)
@given(_bodies)
def test_cutting_empty_members_from_text_equals_pruning_the_value(body: dict[str, Any]) -> None:
    assert json.loads(finish(_emit(body), "t")) == prune(body)


def _type_dir(tmp_path: Path, template: str) -> Path:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "x-endpoints": {"create": "POST /v1/x"},
        "properties": {"name": {"type": "string"}},
    }
    (tmp_path / "x.schema.json").write_text(json.dumps(schema))
    (tmp_path / "x.json.j2").write_text(template)
    return tmp_path


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ('{"name": "{{ doc.name }}"}', "valid JSON"),  # a quoted hole: refused at start-up
        ('{"name": {{ doc.nmae }}}', "nmae"),  # not a field of the type
        ('{"a": {{ "".__class__.__mro__ }}}', "template error"),  # the sandbox holds
        ('{"a": {{ doc.__class__ }}}', "template error"),
        ('{"a": {{ doc.name }}', "valid JSON"),
    ],
)
def test_a_broken_or_unsafe_template_stops_at_start_up(
    tmp_path: Path, template: str, says: str
) -> None:
    d = _type_dir(tmp_path, template)
    with pytest.raises(DocTypeError, match=says):
        load_doctype("x", d / "x.schema.json", d / "x.json.j2")


@pytest.mark.parametrize("name", TYPES)
def test_compiled_templates_give_the_sandbox_output_for_every_sample(
    name: str, samples_dir: Path
) -> None:
    compiled = Registry().get(name)
    sandboxed = Registry().get(name)
    sandboxed.compiled = False
    prepared = check(samples_dir / f"{name}.csv", compiled)
    columns = prepared.colmap.columns_set
    fast, slow = compiled.renderer(columns), sandboxed.renderer(columns)
    assert (fast.engine, slow.engine) == ("compiled", "jinja")  # type: ignore[attr-defined]
    for doc in prepared.documents:
        assert fast(doc.header, doc.lines) == slow(doc.header, doc.lines)


def test_a_template_outside_the_compiled_shape_runs_in_the_sandbox(tmp_path: Path) -> None:
    d = _type_dir(tmp_path, '{"name": {"value": {{ doc.name | upper }}}}')
    doctype = load_doctype("x", d / "x.schema.json", d / "x.json.j2")
    render = doctype.renderer(frozenset({"name"}))
    assert render.engine == "jinja"  # type: ignore[attr-defined]
    assert render({"name": "kari"}, []) == '{"name":{"value":"KARI"}}'
