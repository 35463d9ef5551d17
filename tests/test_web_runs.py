"""The run side of the web app, through Flask's test client against an
embedded sandbox: live progress with the time left and rate-limit waits as
a clock time, Stop, Resume after a stop or a server killed mid-run (each
document sent once), the run history each role may see, reconcile and undo
(a dry run first) of a run. No test depends on speed: runs are held until
released, the clock is injected and progress events are given by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv
from test_api import CUSTOMERS

pytest.importorskip("flask")

from test_web_app import (
    EMPTY,
    PASSWORD,
    Held,
    Web,
    batch_id,
    csrf,
    toml_target,
    upload,
    web_fixture,  # noqa: F401 - the fixture
)

from importer.sandbox import Sandbox
from importer.targets import Event
from importer.web.app import create_app
from importer.web.users import add_user

#: 20 documents: more than the 8 a run has on their way at once (4 workers),
#: so a stop at the first answer leaves some unsent; no preflight (from 21).
TWENTY = [CUSTOMERS[0]] + [[str(20001 + i), f"Kunde {i} AS", "100"] for i in range(20)]


def auth(web: Web, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.tokens[name]}"}


def runner(web: Web) -> Any:
    return web.app.extensions["vnimport"].runner


def start(web: Web, client: Any, path: Path, **form: str) -> str:
    """Upload ``path`` and press Import: the run's page address (the run held)."""
    bid = batch_id(upload(client, path, **form))
    token = csrf(client.get(f"/batches/{bid}"))
    answer = client.post(f"/batches/{bid}/run", data={"csrf_token": token, "mode": "create"})
    assert answer.status_code == 303
    return str(answer.headers["Location"])


def run_id_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def post(client: Any, url: str, **form: str) -> Any:
    page = client.get("/runs")
    return client.post(url, data={"csrf_token": csrf(page), **form})


def text(client: Any, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.status_code
    return str(answer.get_data(as_text=True))


def customer_numbers(sb: Sandbox) -> list[str]:
    return [str(c["number"]) for c in sb.documents("customer")]


def stop_at_first_answer(web: Web, run_id: str) -> list[int]:
    """Press Stop (through the API) when the first document is answered."""
    pressed: list[int] = []

    def listener(rid: str, event: Any) -> None:
        if rid == run_id and event.phase == "sending" and not pressed:
            answer = web.app.test_client().post(
                f"/api/v1/runs/{rid}/stop", headers=auth(web, "alice")
            )
            pressed.append(answer.status_code)

    runner(web).listener = listener
    return pressed


# ------------------------------------------------------------------ progress


def test_progress_shows_the_time_left_and_the_clock_time_visma_holds_the_run(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    rid = run_id_of(url)
    now = [time.mktime((2030, 1, 2, 14, 3, 10, 0, 0, -1))]  # local time
    runner(web).clock = lambda: now[0]
    seen = runner(web).observe(rid)
    seen(Event("estimate", 0, 60, 30.0))  # sending begins
    now[0] += 60
    seen(Event("sending", 4, 20))  # 4 in 60 s: 16 left take 240 s
    box = text(client, url + "/progress")
    assert 'role="status"' in box and 'aria-live="polite"' in box
    assert "4 of 20 documents done." in box and "About 4 min left." in box
    api = web.app.test_client().get(f"/api/v1/runs/{rid}", headers=auth(web, "alice")).json
    assert api is not None
    assert api["progress"]["eta_s"] == 240 and api["progress"]["waiting_until"] is None

    seen(Event("waiting", -1, -1, 50.0))  # at 14:04:10, for 50 s
    box = text(client, url + "/progress")
    assert "Waiting for Visma until 14:05" in box and "4 of 20 documents done" in box
    api = web.app.test_client().get(f"/api/v1/runs/{rid}", headers=auth(web, "alice")).json
    assert api is not None and api["progress"]["phase"] == "waiting"
    assert api["progress"]["waiting_until"].startswith("2030-01-02T14:05:00")
    assert (api["progress"]["done"], api["progress"]["total"]) == (4, 20)  # kept while waiting

    now[0] += 5
    seen(Event("sending", 5, 20))  # another worker's answer, while the wait holds the rest
    box = text(client, url + "/progress")
    assert "Waiting for Visma until 14:05" in box and "5 of 20 documents done" in box

    now[0] += 55
    seen(Event("sending", 10, 20))  # 10 in 120 s: 10 left take 120 s
    box = text(client, url + "/progress")
    assert "Waiting for Visma" not in box and "About 2 min left." in box


# ---------------------------------------------------------------------- stop


def test_stop_leaves_the_documents_not_sent_unsent_and_says_so(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "twenty.csv", TWENTY))
    page = text(client, url)
    assert "Stop the import" in page and "leaving this page does not stop it" in page
    pressed = stop_at_first_answer(web, run_id_of(url))
    web.held.release()
    assert pressed == [202]
    sent = len(customer_numbers(web.sandbox))
    assert 0 < sent < 20  # the ones on their way finished; no new one went
    run = web.app.test_client().get(f"/api/v1/runs/{run_id_of(url)}", headers=auth(web, "alice"))
    assert run.json is not None and run.json["status"] == "stopped" and run.json["ok"] is False
    assert run.json["document_counts"] == {"created": sent, "not sent": 20 - sent}
    page = text(client, url)
    assert f"Stopped: {sent} documents are in Visma; {20 - sent} were not sent." in page
    assert "Done: every row" not in page and "Resume the import" in page


def test_stopping_a_finished_run_is_refused(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    refused = post(client, url + "/stop")
    assert refused.status_code == 409
    assert "This run has ended (finished): there is nothing to stop." in refused.get_data(
        as_text=True
    )
    api = web.app.test_client().post(
        f"/api/v1/runs/{run_id_of(url)}/stop", headers=auth(web, "alice")
    )
    assert api.status_code == 409 and api.json is not None
    assert api.json["error"]["code"] == "not-running"
    again = web.app.test_client().post(
        f"/api/v1/runs/{run_id_of(url)}/resume", headers=auth(web, "alice")
    )
    assert again.status_code == 409 and web.sandbox.count("customer") == 3


def test_stop_before_the_run_began_sends_nothing_and_resume_sends_each_once(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    assert post(client, url + "/stop").status_code == 303
    assert "Stopping" in text(client, url + "/progress")
    web.held.release()
    assert web.sandbox.count("customer") == 0
    assert "Stopped before it began: nothing was sent." in text(client, url)

    first = post(client, url + "/resume")
    second = post(client, url + "/resume")  # a double click
    carol = web.client("carol")  # a second session
    third = post(carol, url + "/resume")
    assert first.status_code == second.status_code == third.status_code == 303
    assert len(web.held.pending) == 1
    web.held.release()
    assert sorted(customer_numbers(web.sandbox)) == ["10001", "10002", "10003"]
    assert "Done: every row is in Visma." in text(client, url)


# -------------------------------------------------------- killed and resumed


def test_a_run_killed_mid_way_is_interrupted_and_resumed_without_a_duplicate(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "twenty.csv", TWENTY))
    rid = run_id_of(url)
    stop_at_first_answer(web, rid)
    web.held.release()
    before = len(customer_numbers(web.sandbox))
    assert 0 < before < 20
    # The process dies after sending these, before it writes the run's end:
    web.store.set_run_status(rid, "running")

    held = Held()
    config = web.data.parent / "vnimport.toml"
    restarted = create_app(web.data, config, max_upload=64 * 1024, spawn=held)
    alice = restarted.test_client()
    login = alice.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf_token": csrf(alice.get("/login"))},
    )
    assert login.status_code == 303
    page = text(alice, url)
    assert "The server stopped during this run" in page and "Resume the import" in page

    assert post(alice, url + "/resume").status_code == 303
    assert post(alice, url + "/resume").status_code == 303  # pressed twice: one run
    api = restarted.test_client().post(f"/api/v1/runs/{rid}/resume", headers=auth(web, "alice"))
    assert api.status_code == 200 and api.json == {"run": rid, "status": "queued"}
    assert len(held.pending) == 1
    held.release()

    numbers = customer_numbers(web.sandbox)
    assert len(numbers) == 20 and len(set(numbers)) == 20  # each document once
    run = restarted.test_client().get(f"/api/v1/runs/{rid}", headers=auth(web, "alice")).json
    assert run is not None and run["status"] == "finished" and run["ok"] is True
    assert run["document_counts"] == {"created": 20 - before, "unchanged": before}
    page = text(alice, url)
    assert "Done: every row is in Visma." in page and "Earlier attempts" in page


def test_a_document_in_doubt_is_said_to_be_checked_not_sent_again(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    summary = {"ok": False, "counts": {"created": 2, "unknown": 1}}
    summary["document_counts"] = {"created": 2, "unknown": 1}
    web.store.set_run(run_id_of(url), "finished", summary=summary)
    page = text(client, url)
    assert "1 documents were sent but Visma&#39;s answer was lost: they are not sent again" in page
    assert "Finished with problems" in page


# ------------------------------------------------------------------- history


def test_the_run_history_lists_only_what_the_role_may_see(web: Web, tmp_path: Path) -> None:
    add_user(web.store, "erin", PASSWORD, "admin", [])
    alice = web.client("alice")
    mine = start(web, alice, write_csv(tmp_path / "alice.csv", CUSTOMERS))
    dan = web.client("dan")
    theirs = start(web, dan, write_csv(tmp_path / "dan.csv", CUSTOMERS), target="beta")
    web.held.release()
    assert "alice.csv" in (page := text(alice, "/runs")) and "dan.csv" not in page
    assert run_id_of(mine) in page and "Done" in page
    assert "alice.csv" not in text(web.client("bob"), "/runs")
    assert "alice.csv" in (page := text(web.client("carol"), "/runs")) and "dan.csv" not in page
    assert "dan.csv" in (page := text(dan, "/runs")) and "alice.csv" not in page
    page = text(web.client("erin"), "/runs")
    assert "alice.csv" in page and "dan.csv" in page
    assert page.index("dan.csv") < page.index("alice.csv")  # newest first
    listed = web.app.test_client().get("/api/v1/runs", headers=auth(web, "bob")).json
    assert listed == {"runs": []}
    assert web.client("bob").get(mine).status_code == 404
    assert web.client("bob").get(theirs).status_code == 404


def test_the_journal_runs_are_listed_for_company_and_admin_users(web: Web, tmp_path: Path) -> None:
    alice = web.client("alice")
    url = start(web, alice, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    assert alice.get("/journal").status_code == 404  # role own
    carol = web.client("carol")
    page = text(carol, "/journal")
    assert "c.csv" in page and url in page
    run = web.app.test_client().get(f"/api/v1/runs/{run_id_of(url)}", headers=auth(web, "alice"))
    assert run.json is not None
    journal_run = run.json["journal_run"]
    register = text(carol, f"/journal/acme/{journal_run}")
    assert "10001" in register and "created" in register
    assert carol.get("/journal/beta/" + journal_run).status_code == 404  # not carol's company


# --------------------------------------------------------- reconcile and undo


def journal_run_of(web: Web, url: str) -> str:
    run = web.app.test_client().get(f"/api/v1/runs/{run_id_of(url)}", headers=auth(web, "alice"))
    assert run.json is not None and run.json["journal_run"]
    return str(run.json["journal_run"])


def test_reconcile_from_the_run_page_shows_the_outcome_and_the_workbook(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    journal_run = journal_run_of(web, url)
    page = text(client, url)
    assert journal_run in page and f"Reconcile journal run {journal_run}" in page
    answer = post(client, url + "/reconcile", journal_run=journal_run)
    assert answer.status_code == 303
    action_url = answer.headers["Location"]
    assert "Waiting to start" in text(client, action_url)
    web.held.release()
    page = text(client, action_url)
    assert "clean: Visma has what the file states" in page
    workbook = client.get(action_url + "/reconcile.xlsx")
    assert workbook.status_code == 200 and workbook.data.startswith(b"PK")
    assert "c.reconcile.xlsx" in workbook.headers["Content-Disposition"]
    workbook.close()
    assert client.get(action_url + "/secret_key").status_code == 404
    assert web.client("bob").get(action_url).status_code == 404


def test_undo_is_a_dry_run_first_then_confirmed_and_takes_the_run_back(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    journal_run = journal_run_of(web, url)
    assert "Undo journal run" in text(web.client("carol"), url)  # role company may undo
    preview = post(client, url + "/undo", journal_run=journal_run)
    assert preview.status_code == 303
    web.held.release()
    page = text(client, preview.headers["Location"])
    assert "Dry run: nothing was changed in Visma" in page and "would inactivate" in page
    assert {c["status"] for c in web.sandbox.documents("customer")} == {"Active"}
    assert 'name="confirm"' not in page  # a test company: no name to type

    done = post(client, preview.headers["Location"] + "/confirm")
    assert done.status_code == 303 and done.headers["Location"] != preview.headers["Location"]
    web.held.release()
    page = text(client, done.headers["Location"])
    assert "Undone: every document of the run is taken back." in page
    assert {c["status"] for c in web.sandbox.documents("customer")} == {"Inactive"}
    report = client.get(done.headers["Location"] + "/report.json")
    assert report.status_code == 200 and b"inactivated" in report.data
    report.close()
    listed = text(client, url)
    assert "undo, dry run ·" in listed and "undo ·" in listed


def test_only_the_owner_or_a_company_user_may_undo(web: Web, tmp_path: Path) -> None:
    add_user(web.store, "fay", PASSWORD, "own", ["acme"])
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    journal_run = journal_run_of(web, url)
    refused = web.app.test_client().post(
        f"/api/v1/runs/{run_id_of(url)}/undo",
        headers=auth(web, "bob"),
        json={"journal_run": journal_run},
    )
    assert refused.status_code == 404  # bob may not even see it
    unknown = web.app.test_client().post(
        f"/api/v1/runs/{run_id_of(url)}/undo",
        headers=auth(web, "alice"),
        json={"journal_run": "nope"},
    )
    assert unknown.status_code == 404 and not web.held.pending


@pytest.fixture(name="production")
def production_fixture(tmp_path: Path) -> Iterator[Web]:
    with Sandbox(EMPTY) as sb:
        config = tmp_path / "vnimport.toml"
        target = toml_target(sb, "acme", tmp_path / "acme.sqlite")
        config.write_text(
            target.replace('kind = "test"', 'kind = "production"\nuntested_files = "allow"'),
            encoding="utf-8",
        )
        held = Held()
        app = create_app(tmp_path / "data", config, max_upload=64 * 1024, spawn=held)
        web = Web(app, sb, tmp_path / "data", held)
        web.tokens["alice"] = add_user(
            app.extensions["vnimport"].store, "alice", PASSWORD, "own", ["acme"]
        )
        yield web


def test_undo_in_a_production_company_asks_for_its_name(production: Web, tmp_path: Path) -> None:
    web = production
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    assert web.sandbox.count("customer") == 3
    preview = post(client, url + "/undo", journal_run=journal_run_of(web, url))
    web.held.release()
    page = text(client, preview.headers["Location"])
    assert "acme is a production company" in page and 'name="confirm"' in page
    wrong = post(client, preview.headers["Location"] + "/confirm", confirm="acm")
    assert wrong.status_code == 400 and "type its name to confirm" in wrong.get_data(as_text=True)
    assert not web.held.pending
    right = post(client, preview.headers["Location"] + "/confirm", confirm="acme")
    assert right.status_code == 303
    web.held.release()
    assert {c["status"] for c in web.sandbox.documents("customer")} == {"Inactive"}


def test_reconcile_and_undo_through_the_api(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    api = web.app.test_client()
    rid = run_id_of(url)
    started = api.post(f"/api/v1/runs/{rid}/reconcile", headers=auth(web, "alice"))
    assert started.status_code == 202 and started.json is not None
    action = started.json["action"]
    early = api.get(f"/api/v1/actions/{action}/reconcile.xlsx", headers=auth(web, "alice"))
    assert early.status_code == 409
    web.held.release()
    got = api.get(f"/api/v1/actions/{action}", headers=auth(web, "alice")).json
    assert got is not None and got["status"] == "finished" and got["result"]["ok"] is True
    dry = api.post(f"/api/v1/runs/{rid}/undo", headers=auth(web, "alice"), json={})
    assert dry.status_code == 202 and dry.json is not None and dry.json["kind"] == "undo-preview"
    undo = api.post(f"/api/v1/runs/{rid}/undo", headers=auth(web, "alice"), json={"dry_run": False})
    assert undo.status_code == 202 and undo.json is not None and undo.json["kind"] == "undo"
    web.held.release()
    got = api.get(f"/api/v1/actions/{undo.json['action']}", headers=auth(web, "alice")).json
    assert got is not None and got["result"]["counts"] == {"inactivated": 3}
    assert api.get(f"/api/v1/actions/{action}", headers=auth(web, "dan")).status_code == 404
