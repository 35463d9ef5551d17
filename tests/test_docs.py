"""The README tells the truth: its commands run as written."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_the_first_two_commands_install_and_run_the_main_job_then_the_tests() -> None:
    first, second = (b.strip() for b in _blocks()[:2])
    assert "pip install ." in first and first.endswith("vnimport demo")
    assert 'pip install -e ".[test]"' in second and "pytest" in second
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci  # CI runs exactly the README's test command


def test_the_main_job_of_the_readme_runs(tmp_path: Path) -> None:
    first = _blocks()[0].strip()
    argv = shlex.split(first.split("&&")[-1])  # .venv/bin/vnimport demo
    assert argv[0].endswith("vnimport")
    proc = subprocess.run(
        [sys.executable, "-m", "importer", *argv[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    reports = sorted((tmp_path / "vnimport-demo").glob("*.json"))
    assert len(reports) == 7
    assert all(json.loads(p.read_text(encoding="utf-8"))["ok"] for p in reports)


def _check_command(line: str, where: str) -> None:
    """A documented `vnimport ...` line names a real command and real options."""
    argv = shlex.split(line.split("#")[0])
    if not argv or argv[0] != "vnimport":
        return
    proc = subprocess.run(
        [sys.executable, "-m", "importer", argv[1], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, (where, line)
    for option in (a for a in argv if a.startswith("--")):
        assert option in proc.stdout, (where, line, option)


def test_the_usage_examples_name_real_commands_and_options() -> None:
    for line in _blocks()[2].splitlines():
        _check_command(line, "README.md")


def test_the_commands_in_the_docs_name_real_commands_and_options() -> None:
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
            for line in block.splitlines():
                _check_command(line, page.name)


def test_the_api_example_runs_as_written(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", page, flags=re.S)[1:]
    proc = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 of 2 documents are valid" in proc.stdout and "{'created': 2}" in proc.stdout
    assert (tmp_path / "out" / "customers.xlsx").exists()
