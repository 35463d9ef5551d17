"""bench/scale.py --quick, as a smoke test: 1 worker process, 1 and 2
companies, 20 invoices each, through a throwaway PostgreSQL queue and an
embedded sandbox; every document exactly once (the bench checks it per
tenant and exits 1 otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_scale_bench_quick_run_sends_each_document_once() -> None:
    from postgres import server_bin

    if server_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL's server programs are missing: .ci/run installs them")
        pytest.skip("PostgreSQL's server programs (Debian's postgresql package) are missing")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    rows = [line for line in lines if line.startswith("| 1 |")]
    assert len(rows) == 2, done.stdout  # 1 worker x (1, 2 companies)
    summary = json.loads(lines[-1])
    assert summary == {"cells": 2, "duplicates": 0, "missing": 0, "jobs not done": 0}
