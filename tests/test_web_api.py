"""The web app's JSON API (/api/v1) with a bearer token, and the `users`
and `serve` commands that make the tokens and start the server."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv, write_xlsx
from test_api import CUSTOMERS

pytest.importorskip("flask")

from test_web_app import PASSWORD, WITH_PROBLEMS, Web, web_fixture  # noqa: F401 - the fixture

from importer.cli import main
from importer.web.store import Store


def auth(web: Web, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.tokens[name]}"}


def post_batch(web: Web, name: str, path: Path, **form: Any) -> Any:
    with path.open("rb") as fh:
        return web.app.test_client().post(
            "/api/v1/batches",
            headers=auth(web, name),
            data={"target": "acme", **form, "file": (fh, path.name)},
            content_type="multipart/form-data",
        )


def test_the_api_refuses_a_call_without_a_valid_token(web: Web) -> None:
    client = web.app.test_client()
    for headers in ({}, {"Authorization": "Bearer vni_wrong"}, {"Authorization": "Basic x"}):
        answer = client.get("/api/v1/batches/x", headers=headers)
        assert answer.status_code == 401 and answer.json is not None
        assert answer.json["error"]["code"] == "unauthorized"
        assert "Bearer" in answer.headers["WWW-Authenticate"]


def test_a_batch_through_the_api_end_to_end(web: Web, tmp_path: Path) -> None:
    answer = post_batch(web, "alice", write_xlsx(tmp_path / "c.xlsx", WITH_PROBLEMS))
    assert answer.status_code == 201, answer.json
    batch = answer.json
    assert batch["status"] == "ready" and batch["type"] == "customer"
    assert batch["rows"] == 3 and batch["documents"] == 3 and batch["valid_documents"] == 1
    assert batch["counts"] == {"valid": 1, "invalid": 2}
    assert {i["column"] for i in batch["issues"]} == {"Customer name", "Credit limit"}
    client = web.app.test_client()
    assert client.get(f"/api/v1/batches/{batch['id']}", headers=auth(web, "alice")).json == batch

    started = client.post(f"/api/v1/batches/{batch['id']}/run", headers=auth(web, "alice"))
    assert started.status_code == 202 and started.json is not None
    run_id = started.json["run"]
    again = client.post(f"/api/v1/batches/{batch['id']}/run", headers=auth(web, "alice"))
    assert again.status_code == 200 and again.json == {"run": run_id, "status": "queued"}
    queued = client.get(f"/api/v1/runs/{run_id}", headers=auth(web, "alice"))
    assert queued.json is not None and queued.json["status"] == "queued"
    early = client.get(f"/api/v1/runs/{run_id}/report.json", headers=auth(web, "alice"))
    assert early.status_code == 409

    web.held.release()
    assert web.sandbox.count("customer") == 1
    run = client.get(f"/api/v1/runs/{run_id}", headers=auth(web, "alice")).json
    assert run is not None and run["status"] == "finished" and run["ok"] is False
    assert run["counts"] == {"created": 1, "invalid": 2} and run["exit_code"] == 1
    assert run["journal_run"] and run["progress"]["phase"] == "done"
    assert {
        "key": "10001",
        "rows": [2],
        "status": "created",
        "number": "10001",
        "problem": {},
    } in run["documents"]
    report = client.get(f"/api/v1/runs/{run_id}/report.json", headers=auth(web, "alice"))
    assert json.loads(report.data)["counts"] == {"created": 1, "invalid": 2}
    report.close()
    for name in ("report.xlsx", "report.csv", "fixme.xlsx"):
        got = client.get(f"/api/v1/runs/{run_id}/{name}", headers=auth(web, "alice"))
        assert got.status_code == 200, name
        got.close()
    assert client.get(f"/api/v1/runs/{run_id}/x.txt", headers=auth(web, "alice")).status_code == 404
    assert client.get("/api/v1/runs/nothing", headers=auth(web, "alice")).status_code == 404


def test_the_same_file_again_sends_nothing_twice(web: Web, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    client = web.app.test_client()
    runs = []
    for _ in range(2):
        batch = post_batch(web, "alice", src, type="customer").json
        assert batch is not None
        run = client.post(f"/api/v1/batches/{batch['id']}/run", headers=auth(web, "alice")).json
        assert run is not None
        web.held.release()
        runs.append(client.get(f"/api/v1/runs/{run['run']}", headers=auth(web, "alice")).json)
    assert runs[0]["counts"] == {"created": 3} and runs[1]["counts"] == {"unchanged": 3}
    assert web.sandbox.count("customer") == 3


def test_the_api_refuses_what_the_pages_refuse(web: Web, tmp_path: Path) -> None:
    fake = tmp_path / "c.csv"
    fake.write_bytes(b"\x00\x01\x02 binary")
    refused = post_batch(web, "alice", fake)
    assert refused.status_code == 400 and refused.json is not None
    assert refused.json["error"]["code"] == "not-a-spreadsheet"
    big = tmp_path / "big.csv"
    big.write_text("Customer number;Customer name\n" + "1;x\n" * 20_000, encoding="utf-8")
    too_big = post_batch(web, "alice", big)
    assert too_big.status_code == 413 and too_big.json is not None
    assert "too large" in too_big.json["error"]["message"]
    src = write_csv(tmp_path / "ok.csv", CUSTOMERS)
    other = post_batch(web, "alice", src, target="beta")
    assert other.status_code == 403 and other.json is not None
    assert other.json["error"]["code"] == "target-not-allowed"
    unknown = post_batch(web, "alice", src, type="invoice")
    assert unknown.status_code == 400
    client = web.app.test_client()
    missing = client.post("/api/v1/batches", headers=auth(web, "alice"), data={})
    assert missing.status_code == 400

    batch = post_batch(web, "alice", src).json
    assert batch is not None
    for name in ("bob", "dan"):
        assert (
            client.get(f"/api/v1/batches/{batch['id']}", headers=auth(web, name)).status_code == 404
        )
        run = client.post(f"/api/v1/batches/{batch['id']}/run", headers=auth(web, name))
        assert run.status_code == 404
    assert (
        client.get(f"/api/v1/batches/{batch['id']}", headers=auth(web, "carol")).status_code == 200
    )
    bad_mode = client.post(
        f"/api/v1/batches/{batch['id']}/run", headers=auth(web, "alice"), data={"mode": "insert"}
    )
    assert bad_mode.status_code == 409 and not web.held.pending


def test_the_target_may_be_left_out_when_the_user_has_one(web: Web, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with src.open("rb") as fh:
        answer = web.app.test_client().post(
            "/api/v1/batches",
            headers=auth(web, "alice"),
            data={"file": (fh, "c.csv")},
            content_type="multipart/form-data",
        )
    assert answer.status_code == 201 and answer.json is not None
    assert answer.json["target"] == "acme"


def test_a_mapping_file_is_used_for_the_check_and_the_run(web: Web, tmp_path: Path) -> None:
    rows = [["Kundenummer X", "Customer name"], ["20001", "Delta AS"]]
    src = write_csv(tmp_path / "odd.csv", rows)
    mapping = b'[columns]\n"Kundenummer X" = "number"\n'
    with src.open("rb") as fh:
        answer = web.app.test_client().post(
            "/api/v1/batches",
            headers=auth(web, "alice"),
            data={
                "type": "customer",
                "file": (fh, "odd.csv"),
                "mapping": (io.BytesIO(mapping), "map.toml"),
            },
            content_type="multipart/form-data",
        )
    assert answer.status_code == 201, answer.json
    assert answer.json is not None and answer.json["valid_documents"] == 1, answer.json


# ------------------------------------------------------------- commands


def test_users_add_prints_a_token_once_and_keeps_only_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    argv = ["users", "add", "erin", "--targets", "acme,beta", "--role", "company"]
    code = main([*argv, "--password-stdin", "--data", str(data)])
    token = capsys.readouterr().out.strip()
    assert code == 0 and token.startswith("vni_")
    raw = (data / "web.sqlite").read_bytes()
    assert token.encode() not in raw and PASSWORD.encode() not in raw
    store = Store(data / "web.sqlite")
    user = store.user_by_token(__import__("hashlib").sha256(token.encode()).hexdigest())
    assert user is not None and user.targets == ("acme", "beta") and user.role == "company"

    assert main(["users", "token", "erin", "--data", str(data)]) == 0
    new = capsys.readouterr().out.strip()
    assert new.startswith("vni_") and new != token
    assert main(["users", "list", "--data", str(data)]) == 0
    assert "erin\tcompany\tacme,beta" in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "fay", "--password-stdin", "--data", str(data)]) == 2
    assert "at least 8" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "erin", "--password-stdin", "--data", str(data)]) == 2
    assert main(["users", "token", "nobody", "--data", str(data)]) == 2


def test_serve_is_a_command() -> None:
    from importer.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "9000", "--behind-tls"])
    assert args.port == 9000 and args.host == "127.0.0.1" and args.behind_tls
