"""The web app with a queue configured: Import queues the batch for the
workers (a real ``vnimport worker`` process on a real PostgreSQL), the
page follows the job to its end, and the result page, its documents and
its reports are the same as for a run made in the server; Stop cancels a
job no worker has taken, and nothing is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv
from test_api import CUSTOMERS
from test_queue import (  # noqa: F401 - the fixtures
    SECRET_ENV,
    Workers,
    _config,
    _until,
    _vnimport,
    queue_fixture,
    workers_fixture,
)

pytest.importorskip("flask")

from test_web_app import PASSWORD, batch_id, csrf, upload

from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig
from importer.sandbox.config import DEMO_TENANT
from importer.web.app import create_app
from importer.web.users import add_user


def _app(tmp_path: Path, sb: Sandbox, queue_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    config = _config(tmp_path, {"acme": (sb, DEMO_TENANT)})
    monkeypatch.setenv(SECRET_ENV, DEMO_SECRET)
    monkeypatch.setenv("VNIMPORT_QUEUE", queue_url)
    app = create_app(tmp_path / "data", config)
    app.extensions["vnimport"].runner.poll_s = 0.1
    add_user(app.extensions["vnimport"].store, "alice", PASSWORD, "own", ["acme"])
    return app


def _signed_in(app: Any) -> Any:
    client = app.test_client()
    answer = client.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf_token": csrf(client.get("/login"))},
    )
    assert answer.status_code == 303
    return client


def _import(client: Any, path: Path) -> str:
    bid = batch_id(upload(client, path))
    answer = client.post(
        f"/batches/{bid}/run", data={"csrf_token": csrf(client.get(f"/batches/{bid}"))}
    )
    assert answer.status_code == 303
    return str(answer.headers["Location"]).rsplit("/", 1)[-1]


def test_import_queues_the_batch_and_a_worker_runs_it(
    tmp_path: Path, queue: str, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(SandboxConfig(company="empty")) as sb:
        app = _app(tmp_path, sb, queue, monkeypatch)
        assert _vnimport(tmp_path, queue, "worker", "--once").returncode == 0  # the schema
        workers.start()
        client = _signed_in(app)
        run_id = _import(client, write_csv(tmp_path / "customers.csv", CUSTOMERS))
        store = app.extensions["vnimport"].store
        run = _until(
            "the queued run ends",
            lambda: (r := store.run(run_id)) and r.status not in ("queued", "running") and r,
            workers,
        )
        assert run.status == "finished", run.summary
        assert sb.count("customer") == 3
        assert run.summary["queued_job"] and run.journal_run
        assert [d["number"] for d in run.summary["by_document"]] == ["10001", "10002", "10003"]
        page = client.get(f"/runs/{run_id}").get_data(as_text=True)
        assert "Done: every row is in Visma." in page
        assert f"Run by the workers as job {run.summary['queued_job']} of the queue" in page
        report = client.get(f"/runs/{run_id}/report.json")
        assert report.status_code == 200
        assert json.loads(report.data)["counts"] == {"created": 3}
        report.close()
        # a company user's run history lists the queue's jobs of their companies
        add_user(store, "carol", PASSWORD, "company", ["acme"])
        carol = app.test_client()
        token = csrf(carol.get("/login"))
        carol.post("/login", data={"name": "carol", "password": PASSWORD, "csrf_token": token})
        history = carol.get("/runs").get_data(as_text=True)
        assert "Jobs in the queue" in history and "customers.csv" in history
        listed = json.loads(_vnimport(tmp_path, queue, "jobs", "list", "--json").stdout)
        job = next(j for j in listed if j["id"] == run.summary["queued_job"])
        assert job["state"] == "done" and job["worker"]  # a worker ran it, not the server


def test_stop_cancels_a_queued_job_no_worker_took(
    tmp_path: Path, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(SandboxConfig(company="empty")) as sb:
        app = _app(tmp_path, sb, queue, monkeypatch)
        assert _vnimport(tmp_path, queue, "worker", "--once").returncode == 0  # the schema
        client = _signed_in(app)
        run_id = _import(client, write_csv(tmp_path / "customers.csv", CUSTOMERS))
        store = app.extensions["vnimport"].store
        _until("the job is queued", lambda: store.run(run_id).summary.get("queued_job"))
        page = client.get(f"/runs/{run_id}")
        stopped = client.post(f"/runs/{run_id}/stop", data={"csrf_token": csrf(page)})
        assert stopped.status_code == 303
        run = _until(
            "the run ends", lambda: (r := store.run(run_id)) and r.status == "stopped" and r
        )
        assert run.status == "stopped" and sb.count("customer") == 0
