"""The web app's records and files in its database, SQLite or PostgreSQL:
the key flows through the pages on both, two servers on other machines
over one PostgreSQL database, a ``web.sqlite`` of the names before
upgraded in place, and which database is chosen."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_xlsx

pytest.importorskip("flask")

from test_web_app import (
    EMPTY,
    PASSWORD,
    WITH_PROBLEMS,
    Held,
    batch_id,
    csrf,
    toml_target,
    upload,
)

from importer.errors import ConfigError
from importer.sandbox import Sandbox
from importer.settings import read_config
from importer.web import default_data_dir
from importer.web.app import create_app
from importer.web.config import check_table
from importer.web.files import Files
from importer.web.store import EditStore, Store, store_spec
from importer.web.users import add_user

SECRET = "s3cr3t-pw"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request: pytest.FixtureRequest) -> str:
    """The ``store`` setting: empty (web.sqlite in the data folder), or
    the address of a new PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    from postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres"), f"w{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(EMPTY) as sb:
        yield sb


def _config(tmp_path: Path, sb: Sandbox, journal: str | Path) -> Path:
    config = tmp_path / "vnimport.toml"
    config.write_text(toml_target(sb, "acme", journal), encoding="utf-8")  # type: ignore[arg-type]
    return config


def _sign_in(app: Any, name: str) -> Any:
    client = app.test_client()
    answer = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": csrf(client.get("/login"))},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def _get(client: Any, url: str) -> bytes:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code)
    data = bytes(answer.data)
    answer.close()
    return data


def test_upload_check_import_download_on_either_database(
    store_at: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = store_at or tmp_path / "acme.sqlite"  # in PostgreSQL: the same database
    held = Held()
    app = create_app(
        tmp_path / "data", _config(tmp_path, sandbox, journal), spawn=held, store=store_at
    )
    service = app.extensions["vnimport"]
    assert service.store.db.postgres == bool(store_at)
    assert (tmp_path / "data" / "web.sqlite").exists() != bool(store_at)
    add_user(service.store, "alice", PASSWORD, "own", ["acme"])
    client = _sign_in(app, "alice")

    bid = batch_id(upload(client, write_xlsx(tmp_path / "customers.xlsx", WITH_PROBLEMS)))
    page = client.get(f"/batches/{bid}")
    assert "Gamma AS" in page.get_data(as_text=True)  # the check's problems, on their cells
    assert _get(client, f"/batches/{bid}/fixme.xlsx").startswith(b"PK")
    keys = {f.key for f in service.files.listing()}
    assert f"uploads/{bid}.xlsx" in keys and f"batches/{bid}/check.fixme.xlsx" in keys

    started = client.post(f"/batches/{bid}/run", data={"csrf_token": csrf(page)})
    run_url = started.headers["Location"]
    held.release()
    assert sandbox.count("customer") == 1
    assert "Finished with problems" in client.get(run_url).get_data(as_text=True)
    report = json.loads(_get(client, f"{run_url}/report.json"))
    assert report["counts"]["created"] == 1
    assert _get(client, f"{run_url}/report.xlsx").startswith(b"PK")
    run_id = run_url.rsplit("/", 1)[-1]
    stored = service.files.get(f"runs/{run_id}/report.csv")
    assert stored is not None and _get(client, f"{run_url}/report.csv") == stored.data
    if store_at:  # the journal's tables and the web app's in one database
        assert {"runs", "entries", "web_runs", "web_files"} <= service.store.db.tables()
    assert not list((tmp_path / "data" / "work").iterdir())  # nothing left half-made


def test_a_second_server_on_another_machine_sees_the_same(
    postgres: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    from postgres import fresh_database

    address = fresh_database(postgres, f"w{uuid.uuid4().hex[:12]}")
    config = _config(tmp_path, sandbox, address)
    held = Held()
    one = create_app(tmp_path / "one", config, spawn=held, store=address)
    add_user(one.extensions["vnimport"].store, "alice", PASSWORD, "own", ["acme"])
    first = _sign_in(one, "alice")
    bid = batch_id(upload(first, write_xlsx(tmp_path / "customers.xlsx", WITH_PROBLEMS)))
    page = first.get(f"/batches/{bid}")
    run_url = first.post(f"/batches/{bid}/run", data={"csrf_token": csrf(page)}).headers["Location"]
    held.release()
    assert sandbox.count("customer") == 1

    other = create_app(tmp_path / "two", config, spawn=Held(), store=address)
    second = _sign_in(other, "alice")  # a user added on one server signs in on the other
    assert "customers.xlsx" in second.get("/").get_data(as_text=True)  # the batch is listed
    assert "Finished with problems" in second.get(run_url).get_data(as_text=True)
    for name in ("report.xlsx", "report.csv", "report.json"):
        assert _get(second, f"{run_url}/{name}") == _get(first, f"{run_url}/{name}"), name
    assert (tmp_path / "two" / "files" / "runs").is_dir()  # the other's own copies
    # behind a load balancer: the cookie one server signed is taken by the other
    cookie = first.get_cookie("vnimport_session")
    assert cookie is not None
    moved = other.test_client()
    moved.set_cookie("vnimport_session", cookie.value)
    assert "customers.xlsx" in moved.get("/").get_data(as_text=True)
    assert not (tmp_path / "two" / "web.sqlite").exists()

    # a user added on the second signs in on the first; a batch uploaded
    # there is seen, checked and refused a second import, on the first
    add_user(other.extensions["vnimport"].store, "bob", PASSWORD, "own", ["acme"])
    bob = _sign_in(one, "bob")
    again = batch_id(upload(second, write_xlsx(tmp_path / "again.xlsx", WITH_PROBLEMS)))
    assert "Gamma AS" in first.get(f"/batches/{again}").get_data(as_text=True)
    assert bob.get(f"/batches/{again}").status_code == 404  # alice's, as on one server
    # the second server, started while the first's run was done, left it finished
    assert one.extensions["vnimport"].store.run(run_url.rsplit("/", 1)[-1]).status == "finished"


def test_a_server_starting_leaves_another_servers_runs_alone(postgres: str, tmp_path: Path) -> None:
    from postgres import fresh_database

    address = fresh_database(postgres, f"w{uuid.uuid4().hex[:12]}")
    one = Store(address, server="one")
    batch = one.add_batch("alice", "acme", "customer", "c.xlsx", ".xlsx")
    run, made = one.claim_run(batch.id, "alice", "create")
    assert made and one.claim_run(batch.id, "bob", "create") == (run, False)
    assert Store(address, server="two").interrupt_unfinished() == 0
    assert one.run(run.id).status == "queued"  # type: ignore[union-attr]
    assert Store(address, server="one").interrupt_unfinished() == 1  # its own, after a restart


def test_claim_action_when_the_live_one_ends_in_between(store_at: str, tmp_path: Path) -> None:
    store = Store(store_at or tmp_path / "web.sqlite")
    first, made = store.claim_action("r", "j", "reconcile", "alice")
    assert made and store.claim_action("r", "j", "reconcile", "bob") == (first, False)
    real = store.db.execute

    def execute(sql: str, params: Any = ()) -> Any:
        done = real(sql, params)
        if sql.startswith("INSERT INTO web_run_actions") and done.rowcount == 0:
            real("UPDATE web_run_actions SET status = 'finished' WHERE id = ?", (first.id,))
        return done

    store.db.execute = execute  # type: ignore[method-assign]
    second, made = store.claim_action("r", "j", "reconcile", "bob")
    assert made and second.id != first.id and second.owner == "bob"


# ------------------------------------------------------ an older web.sqlite

_OLD_SCHEMA = """
CREATE TABLE users (name TEXT PRIMARY KEY, password TEXT NOT NULL,
    token TEXT NOT NULL DEFAULT '', role TEXT NOT NULL, targets TEXT NOT NULL,
    created REAL NOT NULL);
CREATE UNIQUE INDEX users_token ON users(token) WHERE token != '';
CREATE TABLE batches (id TEXT PRIMARY KEY, owner TEXT NOT NULL, target TEXT NOT NULL,
    doctype TEXT NOT NULL, filename TEXT NOT NULL, stored TEXT NOT NULL,
    created REAL NOT NULL, summary TEXT NOT NULL);
CREATE TABLE runs (id TEXT PRIMARY KEY, batch_id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,
    mode TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL,
    journal_run TEXT NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '{}');
CREATE TABLE run_actions (id TEXT PRIMARY KEY, run_id TEXT NOT NULL,
    journal_run TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL, summary TEXT NOT NULL DEFAULT '{}');
CREATE UNIQUE INDEX run_actions_live
    ON run_actions(journal_run, kind) WHERE status IN ('queued', 'running');
CREATE TABLE edits (id INTEGER PRIMARY KEY AUTOINCREMENT, batch_id TEXT NOT NULL,
    who TEXT NOT NULL, sheet TEXT NOT NULL, row INTEGER NOT NULL, col INTEGER NOT NULL,
    header TEXT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX edits_batch ON edits(batch_id);
INSERT INTO users VALUES ('alice', 'hash', 'tok', 'own', '["acme"]', 1.0);
INSERT INTO batches VALUES ('b1', 'alice', 'acme', 'customer', 'c.xlsx', 'b1.xlsx', 2.0,
    '{"valid_documents": 1}');
INSERT INTO runs VALUES ('r1', 'b1', 'alice', 'create', 'running', 3.0, 'j1', '{}');
INSERT INTO run_actions VALUES ('a1', 'r1', 'j1', 'reconcile', 'alice', 'queued', 4.0, '{}');
INSERT INTO edits (batch_id, who, sheet, row, col, header, old, new, created)
    VALUES ('b1', 'alice', 'Sheet1', 3, 1, 'Customer name', '', 'Beta AS', 5.0);
"""


def test_an_older_web_sqlite_is_upgraded_in_place_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "runs" / "r1").mkdir(parents=True)
    (data / "runs" / "r1" / "report.json").write_text('{"old": true}', encoding="utf-8")
    (data / "uploads").mkdir()
    (data / "uploads" / "b1.xlsx").write_bytes(b"PK old upload")
    with sqlite3.connect(data / "web.sqlite") as db:
        db.executescript(_OLD_SCHEMA)
    db.close()

    app = create_app(data, tmp_path / "vnimport.toml")
    store: Store = app.extensions["vnimport"].store
    tables = store.db.tables()
    assert {"web_users", "web_batches", "web_runs", "web_run_actions", "web_edits"} <= tables
    assert not {"users", "batches", "runs", "run_actions", "edits"} & tables
    indexes = {r[0] for r in store.db.query("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"web_users_token", "web_run_actions_live", "web_edits_batch"} <= indexes
    assert not {"users_token", "run_actions_live", "edits_batch"} & indexes
    user = store.user_by_token("tok")
    assert user is not None and user.targets == ("acme",)
    assert store.batch("b1").summary == {"valid_documents": 1}  # type: ignore[union-attr]
    assert store.run("r1").status == "interrupted"  # type: ignore[union-attr]
    assert store.action("a1").status == "interrupted"  # type: ignore[union-attr]
    edits = EditStore(store)
    edits.add("b1", "bob", "Sheet1", 4, 2, "Credit limit", "x", "1")
    assert [e["who"] for e in edits.of_batch("b1")] == ["alice", "bob"]
    ids = [r["id"] for r in store.db.query("SELECT id FROM web_edits ORDER BY id")]
    assert ids == [1, 2]
    files: Files = app.extensions["vnimport"].files  # the old folders' files moved in
    assert files.get("runs/r1/report.json").data == b'{"old": true}'  # type: ignore[union-attr]
    assert files.get("uploads/b1.xlsx").data == b"PK old upload"  # type: ignore[union-attr]
    assert not (data / "runs").exists() and not (data / "uploads").exists()

    again = Store(data / "web.sqlite")  # once: opened again, nothing changes
    assert again.user("alice") == user and again.run("r1") == store.run("r1")


# ----------------------------------------------------- which database


def test_which_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"postgresql://vn:{SECRET}@db.example/vnimport"
    assert store_spec(tmp_path, "", journal=str(tmp_path / "j.sqlite")) == str(
        tmp_path / "web.sqlite"
    )
    assert store_spec(tmp_path, "", journal=address) == address
    assert store_spec(tmp_path, "postgresql://other/x", journal=address) == "postgresql://other/x"
    monkeypatch.setenv("VNIMPORT_JOURNAL", address)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_data_dir() == tmp_path / "state" / "vnimport" / "web"
    assert store_spec(default_data_dir()) == address
    monkeypatch.setenv("VNIMPORT_JOURNAL", str(tmp_path / "j" / "journal.sqlite"))
    assert default_data_dir() == tmp_path / "j" / "web"


def test_the_store_key_is_checked_without_showing_it(tmp_path: Path) -> None:
    assert check_table({"store": "postgresql://vn@db/x"}) == []
    assert check_table({"store": 5})[0].startswith("[serve]: store must be text")
    refused = check_table({"store": f"mysql://vn:{SECRET}@db/x"})
    assert refused and "PostgreSQL address" in refused[0] and SECRET not in refused[0]
    config = tmp_path / "vnimport.toml"
    config.write_text(f'[serve]\nstore = "/srv/{SECRET}.sqlite"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_config(config)
    assert "store" in str(caught.value) and SECRET not in str(caught.value)


def test_the_password_is_never_shown_when_the_database_is_out_of_reach(tmp_path: Path) -> None:
    from importer.web.db import DatabaseError

    with pytest.raises(DatabaseError) as caught:
        create_app(tmp_path / "data", store=f"postgresql://vn:{SECRET}@127.0.0.1:1/x")
    assert SECRET not in str(caught.value) and "127.0.0.1" in str(caught.value)
