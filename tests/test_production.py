"""Test company, then production: a file goes to a ``kind = "production"``
target only once it has run against a ``kind = "test"`` one, or someone
says so. Two sandboxes stand in for the two companies, over real sockets."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv
from test_api import CUSTOMERS, vnimport

from importer.errors import ConfigError
from importer.register import check_tested
from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection
from importer.settings import load_target

EMPTY = SandboxConfig(company="empty")


def _target(name: str, sb: Sandbox, extra: str = "") -> str:
    conn = demo_connection(sb.url)
    return (
        f"[targets.{name}]\nbase_url = \"{conn.base_url}\"\ntoken_url = \"{conn.token_url}\"\n"
        f"client_id = \"{conn.client_id}\"\ntenant_id = \"{conn.tenant_id}\"\n"
        f"client_secret_env = \"DEMO_SECRET\"\njournal = \"{name}.sqlite\"\n{extra}"
    )  # fmt: skip


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
    return {**env, "DEMO_SECRET": DEMO_SECRET}


def test_a_file_goes_to_production_only_after_a_test_company_took_it(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with Sandbox(EMPTY) as test, Sandbox(EMPTY) as prod:
        (tmp_path / "vnimport.toml").write_text(
            _target("test", test, 'kind = "test"\n')
            + _target("prod", prod, 'kind = "production"\n'),
            encoding="utf-8",
        )

        def run(target: str, *more: str) -> Any:
            return vnimport(
                "run", str(src), "--type", "customer", "--target", target, *more,
                env=_env(), cwd=tmp_path,
            )  # fmt: skip

        refused = run("prod")  # no terminal here: a refusal that says how to go on
        assert refused.returncode == 2, refused.stderr
        said = refused.stderr
        assert "'prod' is a production company" in said and "never run as customer" in said
        assert "--target test" in said and "--yes" in said and 'untested_files = "allow"' in said
        assert "Traceback" not in said and DEMO_SECRET not in said
        assert prod.count("customer") == 0

        assert run("test").returncode == 0
        assert test.count("customer") == 3
        assert run("prod").returncode == 0
        assert prod.count("customer") == 3

        # a file whose test run had a failed row is not taken as tested
        bad = write_csv(tmp_path / "bad.csv", [*CUSTOMERS, ["10009", "", "0"]])
        assert vnimport("run", str(bad), "--type", "customer", "--target", "test", env=_env(),
                        cwd=tmp_path).returncode == 1  # fmt: skip
        proc = vnimport("run", str(bad), "--type", "customer", "--target", "prod", env=_env(),
                        cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 2 and "with every row fine" in proc.stderr

        changed = write_csv(tmp_path / "c.csv", [*CUSTOMERS, ["10004", "Delta AS", "0"]])
        assert changed == src
        assert run("prod").returncode == 2
        assert prod.count("customer") == 3  # a changed file is another file
        assert run("prod", "--yes").returncode == 0
        assert prod.count("customer") == 4

        def undo(*more: str) -> Any:
            return vnimport("undo", "last", "--target", "prod", *more, env=_env(), cwd=tmp_path)

        refused = undo()  # taking documents out of the books: asked, else refused
        assert refused.returncode == 2 and "'prod' is a production company" in refused.stderr
        assert "--yes" in refused.stderr and "--dry-run" in refused.stderr
        assert undo("--dry-run").returncode == 0
        assert {d["status"] for d in prod.documents("customer")} == {"Active"}
        done = undo("--yes")
        assert done.returncode == 0, done.stderr
        statuses = {d["number"]: d["status"] for d in prod.documents("customer")}
        assert statuses["10004"] == "Inactive"  # the one the last run created
        shown = vnimport("runs", "show", "last", "--target", "prod", env=_env(), cwd=tmp_path)
        assert "10004" in shown.stdout and "created, then undo: inactivated" in shown.stdout


def test_a_production_target_can_allow_untested_files_and_the_kind_is_checked(
    tmp_path: Path,
) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with Sandbox(EMPTY) as prod:
        config = tmp_path / "vnimport.toml"
        config.write_text(
            _target("prod", prod, 'kind = "production"\nuntested_files = "allow"\n'),
            encoding="utf-8",
        )
        proc = vnimport(
            "run", str(src), "--type", "customer", "--target", "prod", env=_env(), cwd=tmp_path
        )
        assert proc.returncode == 0, proc.stderr
        assert prod.count("customer") == 3

        config.write_text(_target("prod", prod, 'kind = "live"\n'), encoding="utf-8")
        proc = vnimport(
            "run", str(src), "--type", "customer", "--target", "prod", env=_env(), cwd=tmp_path
        )
        assert proc.returncode == 2
        assert 'kind is "test" or "production", not \'live\'' in proc.stderr


def test_a_person_at_a_terminal_is_asked(tmp_path: Path) -> None:
    with Sandbox(EMPTY) as prod:
        config = tmp_path / "vnimport.toml"
        config.write_text(_target("prod", prod, 'kind = "production"\n'), encoding="utf-8")
        target = load_target("prod", env=_env(), config=config)
    asked: list[str] = []

    def answer(yes: bool) -> Callable[[str], bool]:
        def ask(question: str) -> bool:
            asked.append(question)
            return yes

        return ask

    journal = str(tmp_path / "default.sqlite")
    check_tested(target, "0" * 64, "customer", [], default_journal=journal, ask=answer(True))
    assert asked == [
        "This file was never run as customer against a test company with every row fine. "
        "Send it to the production company 'prod'?"
    ]
    with pytest.raises(ConfigError, match='kind = "test"'):
        check_tested(target, "0" * 64, "customer", [], default_journal=journal, ask=answer(False))
