"""The folder watcher with a queue: files queued for the workers instead of
run in the watcher's process, their jobs' reports collected and filed
beside them in ``done/`` or ``failed/``, whichever machine ran them.

Real PostgreSQL (tests/postgres.py), a real sandbox, real worker processes
(started as tests/test_queue.py starts them, with its helpers), and a
watcher process killed between queueing and collecting.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from test_queue import (  # noqa: F401  (queue_fixture, workers_fixture: the fixtures)
    DEADLINE,
    SECRET_ENV,
    Workers,
    _config,
    _customer,
    _env,
    _invoices,
    _states,
    _until,
    _vnimport,
    queue_fixture,
    workers_fixture,
)
from test_watch import Recorder

from importer.queue import list_jobs
from importer.sandbox import Sandbox, SandboxConfig
from importer.sandbox.config import DEMO_SECRET
from importer.watch.config import watch_settings
from importer.watch.folders import Folder
from importer.watch.runner import Watcher

TENANT = "company-1"


def _watched(tmp: Path, sb: Sandbox) -> Path:
    """vnimport.toml: a target ``acme`` on the sandbox (no journal of its
    own: the queue's database), and a [watch] of ``tmp/drop``."""
    config = _config(tmp, {"acme": (sb, TENANT)})
    root = tmp / "drop"
    root.mkdir()
    with config.open("a", encoding="utf-8") as fh:
        fh.write(
            f'\n[watch]\nroot = "{root}"\ntarget = "acme"\nsettle = 0\n\n'
            '[watch.folders.invoices]\ntype = "customer_invoice"\n'
        )
    return config


def _bad(path: Path) -> Path:
    """Two invoices, the second for a customer Visma does not know: it fails."""
    _invoices(path, "BAD", 2)
    text = path.read_text(encoding="utf-8-sig").splitlines()
    text[-1] = text[-1].replace("10000", "99999")
    text[-2] = text[-2].replace("10000", "99999")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def _ended(queue: str) -> list[str]:
    """The jobs' states, once none is queued or running."""
    states = sorted(_states(queue).values())
    return [] if {"queued", "running"} & set(states) else states


def _left(place: Folder) -> list[str]:
    """The files in ``processing/``."""
    return sorted(p.name for p in place.in_processing())


def _names(base: Path) -> list[str]:
    return sorted(p.name for p in base.glob("*/*")) if base.exists() else []


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, DEMO_SECRET)  # the watcher reads its target here too


def test_queued_files_are_run_by_a_worker_and_filed_by_the_next_pass(
    tmp_path: Path, queue: str, workers: Workers, secret: None
) -> None:
    from importer.queue.app import ensure_schema

    with Sandbox(SandboxConfig(companies=1)) as sb:
        _customer(sb, TENANT)
        config = _watched(tmp_path, sb)
        ensure_schema(queue)
        place = Folder(tmp_path / "drop" / "invoices")
        place.ensure()
        for n in range(3):
            _invoices(place.inbox / f"good{n}.csv", f"G{n}", 2)
        _bad(place.inbox / "bad.csv")
        notes = Recorder()
        said: list[str] = []
        watcher = Watcher(
            watch_settings(config),
            notifier=notes,
            config=config,
            state=tmp_path / "state",
            queue=queue,
            say=said.append,
        )

        assert watcher.run(threading.Event(), once=True) == 0  # queued, nothing run here
        assert _left(place) == ["bad.csv", "good0.csv", "good1.csv", "good2.csv"]
        assert sb.count("customer_invoice", TENANT) == 0 and notes.files == []
        assert set(_states(queue).values()) == {"queued"} and len(_states(queue)) == 4
        assert any("4 in the queue" in line for line in said)

        workers.start()  # one company: its jobs one after another (--once would stop at the lock)
        _until("every job ended", lambda: _ended(queue) == ["done", "done", "done", "failed"],
               workers)  # fmt: skip

        assert watcher.run(threading.Event(), once=True) == 1  # the bad file failed
        by_file = {o.file: o for o in notes.files}
        assert sorted(by_file) == ["bad.csv", "good0.csv", "good1.csv", "good2.csv"]
        jobs = {j.file_name: j for j in list_jobs(queue)}
        for n in range(3):
            outcome = by_file[f"good{n}.csv"]
            run = jobs[f"good{n}.csv"].run_id
            assert outcome.status == "imported" and outcome.counts == {
                "created": 4
            }  # rows: two invoices of two lines
            assert outcome.run_id == run and outcome.company == "acme"
            assert outcome.moved_to is not None and outcome.moved_to.parent.parent == place.done
            assert outcome.moved_to.name == f"good{n}.{run}.csv"
            report = json.loads(outcome.reports["json"].read_text(encoding="utf-8"))
            assert report["counts"] == {"created": 4}
        assert len(_names(place.done)) == 3 * 4  # each file with its three reports
        bad = by_file["bad.csv"]
        assert bad.status == "failed" and bad.counts == {"created": 2, "failed": 2}
        assert bad.problems and all(p.startswith("row ") for p in bad.problems)
        assert bad.moved_to is not None and bad.moved_to.parent.parent == place.failed
        run = jobs["bad.csv"].run_id
        assert _names(place.failed) == sorted(
            f"bad.{run}.{end}"
            for end in ("csv", "report.xlsx", "report.csv", "report.json", "fixme.xlsx")
        )
        assert notes.finished()[-1][0] is False and "bad.csv: failed" in notes.finished()[-1][1]
        assert os.listdir(place.processing / ".reports") == [] and _left(place) == []

        # A second pass: nothing more filed, nothing queued, nothing sent.
        before = (_names(place.done), _names(place.failed), len(notes.files))
        assert watcher.run(threading.Event(), once=True) == 0
        assert (_names(place.done), _names(place.failed), len(notes.files)) == before
        assert len(list_jobs(queue)) == 4
        assert sb.count("customer_invoice", TENANT) == 3 * 2 + 1  # each invoice once


def _watch_process(tmp: Path, queue: str, log: str, *argv: str) -> subprocess.Popen[str]:
    """``vnimport watch`` in a process of its own, its output in ``tmp/log``."""
    with (tmp / log).open("w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "importer", "watch", *argv],
            cwd=tmp,
            env=_env(tmp, queue, "watcher"),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def test_a_watcher_killed_between_queueing_and_collecting_queues_nothing_twice(
    tmp_path: Path, queue: str, workers: Workers, secret: None
) -> None:
    from importer.queue.app import ensure_schema

    with Sandbox(SandboxConfig(companies=1)) as sb:
        _customer(sb, TENANT)
        _watched(tmp_path, sb)
        ensure_schema(queue)
        place = Folder(tmp_path / "drop" / "invoices")
        place.ensure()
        for n in range(2):
            _invoices(place.inbox / f"f{n}.csv", f"K{n}", 2)

        # A long-running watcher: it queues both files, then waits for its next pass.
        proc = _watch_process(tmp_path, queue, "first.out", "--interval", "3600")
        _until("both files queued", lambda: len(_states(queue)) == 2)
        state = tmp_path / "watcher" / "state"
        _until(
            "the jobs kept in the watcher's state",
            lambda: (
                [
                    q.get("job")
                    for q in _state(state).get("queued", {}).values()
                    if q.get("job") is not None
                ].__len__()
                == 2
            ),
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert _left(place) == ["f0.csv", "f1.csv"]

        # The watcher dies again, now with its state lost between queueing and
        # remembering: the job is found by the token kept before queueing.
        keep = _state(state)
        entry = keep["queued"]["invoices/f1.csv"]
        entry["job"] = None
        next(state.glob("vnimport/watch/*/state.json")).write_text(json.dumps(keep))

        workers.start()
        _until("both jobs done", lambda: _ended(queue) == ["done", "done"], workers)

        again = _watch_process(tmp_path, queue, "again.out", "--once")
        assert again.wait(timeout=DEADLINE) == 0
        out = (tmp_path / "again.out").read_text(encoding="utf-8")
        assert len(_states(queue)) == 2  # nothing queued twice
        assert _left(place) == []
        done = _names(place.done)
        assert len(done) == 2 * 4 and sum(n.endswith(".report.json") for n in done) == 2
        assert sb.count("customer_invoice", TENANT) == 4
        assert "f0.csv imported" in out and "f1.csv imported" in out
        assert "queued as job" not in out and "goes to the queue" not in out

        # vnimport runs lists the jobs with their states and runs, whichever machine ran them.
        listed = _vnimport(tmp_path, queue, "runs")
        assert listed.returncode == 0, listed.stderr
        text = listed.stdout
        assert "jobs in the queue" in text and DEMO_SECRET not in text
        for job in list_jobs(queue):
            assert f"{job.id}  done" in text and job.file_name in text
            assert f"run {job.run_id}" in text
        shown = _vnimport(tmp_path, queue, "runs", "show", list_jobs(queue)[0].run_id)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(f"run {list_jobs(queue)[0].run_id}")
        as_json = json.loads(_vnimport(tmp_path, queue, "runs", "--json").stdout)
        assert sorted(j["state"] for j in as_json["jobs"]) == ["done", "done"]
        assert all(j["run_id"] for j in as_json["jobs"])


def _state(folder: Path) -> dict[str, Any]:
    """The watcher's state (one root: one folder under ``.../vnimport/watch/``)."""
    found = list(folder.glob("vnimport/watch/*/state.json"))
    if not found:
        return {}
    try:
        data: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return data


def test_without_a_queue_runs_shows_no_jobs(tmp_path: Path, secret: None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_QUEUE")}
    env["VNIMPORT_JOURNAL"] = str(tmp_path / "none.sqlite")
    done = subprocess.run(
        [sys.executable, "-m", "importer", "runs"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "there is no journal" in done.stderr
    assert "jobs" not in done.stdout + done.stderr
