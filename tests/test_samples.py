"""Every bundled sample previews cleanly into bodies the official spec accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TYPES
from openapi import dto_errors, request_dto
from records import preview_records

from importer.batch import check, validation_report
from importer.doctypes import Registry


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
@pytest.mark.parametrize("name", TYPES)
def test_sample_previews_to_spec_bodies(
    name: str, suffix: str, registry: Registry, samples_dir: Path
) -> None:
    doctype = registry.get(name)
    prepared = check(samples_dir / f"{name}.{suffix}", doctype)
    report = validation_report(prepared)
    assert [str(i) for r in report.results for i in r.issues] == []
    assert report.file_issues == []
    records = list(preview_records(prepared))
    assert len(records) >= 3
    if doctype.lines:
        assert any(len(r["body"][doctype.lines]) >= 3 for r in records)
    dto = doctype.schema["x-dto"]
    assert request_dto(records[0]["method"], records[0]["path"]) == dto
    for record in records:
        assert dto_errors(dto, record["body"]) == [], record["key"]


@pytest.mark.parametrize("name", TYPES)
def test_xlsx_and_csv_samples_agree(name: str, registry: Registry, samples_dir: Path) -> None:
    doctype = registry.get(name)
    from_xlsx = list(preview_records(check(samples_dir / f"{name}.xlsx", doctype)))
    from_csv = list(preview_records(check(samples_dir / f"{name}.csv", doctype)))
    assert from_xlsx == from_csv
