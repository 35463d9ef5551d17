"""``vnimport demo``: every bundled sample goes into an embedded sandbox."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TYPES

from importer.cli import main


def test_demo_creates_every_sample_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    table = out.splitlines()
    for name in TYPES:
        assert any(line.split()[:1] == [name] for line in table), f"{name} not in:\n{out}"
        summary = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert summary["type"] == name
        assert summary["ok"] is True
        assert summary["rows"] > 0 and summary["documents"] > 0
        assert summary["counts"] == {"created": summary["rows"]}, summary
        assert summary["calls"] >= summary["documents"]
        with (tmp_path / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == summary["rows"]
        assert {r["status"] for r in rows} == {"created"}
        assert all(r["number"] for r in rows)
        assert (tmp_path / f"{name}.xlsx").is_file()
    assert str(tmp_path) in out


def test_demo_as_a_command(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "importer", "demo", "--out", str(out), "--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "purchase_order" in done.stdout
    assert sorted(p.stem for p in out.glob("*.json")) == sorted(TYPES)
