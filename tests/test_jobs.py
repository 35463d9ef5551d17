"""Jobs: one file into one company, unattended, through the library: what
the watcher, the web app and the workers run. Against the sandbox over
real sockets, with real files."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import write_csv, write_xlsx
from test_api import CUSTOMERS

from importer import Job, run_job
from importer.errors import ConfigError
from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection

EMPTY = SandboxConfig(company="empty")


def _toml(sb: Sandbox, name: str, kind: str) -> str:
    conn = demo_connection(sb.url)
    return (
        f'[targets.{name}]\nbase_url = "{conn.base_url}"\ntoken_url = "{conn.token_url}"\n'
        f'client_id = "{conn.client_id}"\ntenant_id = "{conn.tenant_id}"\n'
        f'client_secret = "{DEMO_SECRET}"\njournal = "{name}.sqlite"\nkind = "{kind}"\n'
    )


def test_a_job_imports_a_file_and_writes_its_report_beside_it(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "customers.xlsx", CUSTOMERS)
    job = Job(src, "customer", journal=str(tmp_path / "j.sqlite"))
    with Sandbox(EMPTY) as sb:
        result = run_job(job, connection=demo_connection(sb.url))
        assert sb.count("customer") == 3
        summary = json.loads(result.paths["json"].read_text(encoding="utf-8"))
        again = run_job(job, connection=demo_connection(sb.url))  # the journal decides
        assert sb.count("customer") == 3
    assert result.exit_code == 0 and result.fatal is None
    assert result.counts == {"created": 3} and again.counts == {"unchanged": 3}
    assert result.run_id and result.run_id != again.run_id
    assert result.paths["json"] == tmp_path / "customers.xlsx.report.json"
    assert summary["counts"] == {"created": 3}
    assert len(result.sha256) == 64 and result.problems() == []


def test_what_ends_a_job_is_in_its_report_never_raised(tmp_path: Path) -> None:
    missing = run_job(Job(tmp_path / "gone.csv", "customer", journal=str(tmp_path / "j")))
    assert missing.exit_code == 2 and missing.fatal is not None
    assert missing.fatal[0] == "file-error" and missing.paths["json"].exists()

    bad = write_csv(tmp_path / "bad.csv", [["Customer number", "Customer name"], ["1", ""]])
    refused = run_job(Job(bad, "customer", journal=str(tmp_path / "j")), connection=None)
    assert refused.exit_code == 2  # no connection configured here: said, not raised
    assert refused.fatal is not None and refused.fatal[0] == "config-error"

    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with socket.socket() as s:  # a port nothing answers on: Visma out of reach
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with Sandbox(EMPTY) as sb:
        conn = demo_connection(sb.url)
    unreachable = replace(
        conn, base_url=f"http://127.0.0.1:{dead}", token_url=f"http://127.0.0.1:{dead}/token"
    )
    job = Job(src, "customer", journal=str(tmp_path / "j2.sqlite"))
    result = run_job(job, connection=unreachable)
    assert result.exit_code == 2, result.counts  # not "0 imported"
    assert result.fatal is not None and result.fatal[0] == "visma-error"  # an outage, not auth
    assert result.problems() and "127.0.0.1" in result.problems()[0]
    assert DEMO_SECRET not in result.paths["json"].read_text(encoding="utf-8")


def test_a_job_for_production_is_refused_until_a_test_company_took_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with Sandbox(EMPTY) as test, Sandbox(EMPTY) as prod:
        config = tmp_path / "vnimport.toml"
        config.write_text(_toml(test, "test", "test") + _toml(prod, "prod", "production"))
        refused = run_job(Job(src, "customer", target="prod"), config=config)
        assert refused.exit_code == 2 and prod.count("customer") == 0
        assert refused.fatal is not None and "yes" in refused.fatal[1]
        tested = run_job(Job(src, "customer", target="test"), config=config)
        assert tested.exit_code == 0 and tested.company == "test"
        taken = run_job(Job(src, "customer", target="prod"), config=config)
        assert taken.exit_code == 0 and prod.count("customer") == 3


def test_a_job_says_a_wrong_mode_at_once() -> None:
    with pytest.raises(ConfigError, match="create, update, upsert"):
        Job(Path("x.csv"), "customer", mode="insert")
