"""Every column of every type has headers in English, Norwegian and Swedish."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TYPES, write_csv

from importer.doctypes import Registry
from importer.mapping.columns import build_column_map
from importer.sources.files import read_table

LANGUAGES = ("en", "nb", "sv")
N = 2  # the segment number a pattern alias is tried with


def _schema(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))


def _columns(name: str) -> list[tuple[str, str, dict[str, list[str]]]]:
    """(where in the schema, the column it means, x-aliases) for every field:
    properties by name, pattern properties by x-column with {n} = N."""
    schema = _schema(name)
    found = [(f, f, p.get("x-aliases")) for f, p in schema.get("properties", {}).items()]
    for rx, prop in schema.get("patternProperties", {}).items():
        column = prop["x-column"].replace("{n}", str(N))
        found.append((rx, column, prop.get("x-aliases")))
    return found


def _header(aliases: dict[str, list[str]], lang: str) -> str:
    """One header in ``lang``: its first alias that is not also an English one."""
    english = set(aliases["en"]) if lang != "en" else set()
    own = [a for a in aliases[lang] if a not in english] or aliases[lang]
    return own[0].replace("{n}", str(N))


@pytest.mark.parametrize("name", TYPES)
def test_every_field_has_aliases_in_english_norwegian_and_swedish(name: str) -> None:
    columns = _columns(name)
    assert columns
    for where, _, aliases in columns:
        assert isinstance(aliases, dict), f"{name}: {where} has no x-aliases by language"
        assert sorted(aliases) == sorted(LANGUAGES), f"{name}: {where}: {sorted(aliases)}"
        for lang in LANGUAGES:
            texts = aliases[lang]
            assert isinstance(texts, list) and texts, f"{name}: {where} has no {lang!r} alias"
            assert all(isinstance(t, str) and t.strip() for t in texts), (name, where, lang)


@pytest.mark.parametrize("name", TYPES)
def test_every_alias_resolves_to_its_own_field(name: str, registry: Registry) -> None:
    doctype = registry.get(name)
    patterns = set(_schema(name).get("patternProperties", {}))
    wrong = []
    for where, column, aliases in _columns(name):
        for lang in LANGUAGES:
            for alias in aliases[lang]:
                if where in patterns:
                    assert "{n}" in alias, f"{name}: pattern alias {alias!r} has no {{n}}"
                header = alias.replace("{n}", str(N))
                got = doctype.resolve_header(header)
                if got != column:
                    wrong.append(f"{lang} {header!r} -> {got!r}, expected {column!r}")
    assert not wrong, f"{name}: " + "; ".join(wrong)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", TYPES)
def test_a_header_row_in_one_language_maps_every_column(
    name: str, lang: str, tmp_path: Path, registry: Registry
) -> None:
    doctype = registry.get(name)
    columns = _columns(name)
    header = [_header(aliases, lang) for _, _, aliases in columns]
    src = write_csv(tmp_path / f"{name}.{lang}.csv", [header, ["x"] * len(header)])
    colmap = build_column_map(read_table(src), doctype)
    assert [w.message for w in colmap.warnings if w.code == "unknown-column"] == []
    assert set(colmap.by_field) == {column for _, column, _ in columns}
    assert {colmap.by_field[column].header for _, column, _ in columns} == set(header)
