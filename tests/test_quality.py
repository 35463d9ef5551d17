"""The guardrails run with the tests: ruff (lint and format) and strict mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "importer", "tests", "scripts", "bench"],
        ["ruff", "format", "--check", "importer", "tests", "scripts", "bench"],
        ["mypy", "importer"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_guardrail(command: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
