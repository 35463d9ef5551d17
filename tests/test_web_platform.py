"""The web app's platform: the ``[serve]`` table and ``vnimport serve``,
the row limit and the reader's guards on uploads, the clean-up of old
uploads, the trusted-header sign-on, the limit on sign-in attempts, the
users page, session lifetime, and that no page shows a secret. Clocks are
injected: nothing here waits or reads the wall clock for its outcome."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv, write_xlsx
from test_api import CUSTOMERS

pytest.importorskip("flask")

from test_web_app import (
    PASSWORD,
    WITH_PROBLEMS,
    Web,
    batch_id,
    csrf,
    upload,
    web_fixture,  # noqa: F401 - the fixture
)

from importer.cli import main
from importer.errors import ConfigError
from importer.sandbox import DEMO_SECRET
from importer.settings import read_config
from importer.sources import files as read
from importer.web.app import create_app
from importer.web.cleanup import Cleanup
from importer.web.config import KEYS, serve_settings
from importer.web.files import Files
from importer.web.limits import SignInLimiter
from importer.web.store import Store
from importer.web.users import add_user

ROOT = Path(__file__).resolve().parents[1]
TARGET = (
    '[targets.acme]\nbase_url = "http://127.0.0.1:9/"\ntoken_url = "http://127.0.0.1:9/t"\n'
    'client_id = "c"\ntenant_id = "t"\nclient_secret = "s"\nkind = "test"\n'
)


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_app(tmp_path: Path, **kw: Any) -> Any:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "vnimport.toml"
    if not config.exists():
        config.write_text(TARGET, encoding="utf-8")
    app = create_app(tmp_path / "data", config, **kw)
    store = app.extensions["vnimport"].store
    add_user(store, "alice", PASSWORD, "own", ["acme"])
    add_user(store, "root", PASSWORD, "admin", [])
    return app


def sign_in(app: Any, name: str, password: str = PASSWORD) -> Any:
    client = app.test_client()
    answer = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf(client.get("/login"))},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


# ------------------------------------------------------------ [serve]


def test_the_serve_table_is_read_and_the_options_beat_it(tmp_path: Path) -> None:
    config = tmp_path / "vnimport.toml"
    config.write_text(
        TARGET + '[serve]\nhost = "0.0.0.0"\nport = 9001\ndata = "webdata"\n'
        "max_upload_mb = 5\nmax_rows = 10\nbehind_tls = true\nkeep_uploads_days = 0.5\n"
        'trusted_header = "X-Remote-User"\nsession_hours = 2\n',
        encoding="utf-8",
    )
    assert "serve" not in read_config(config)  # a table, not a connection setting
    s = serve_settings(config)
    assert (s.host, s.port, s.data) == ("0.0.0.0", 9001, tmp_path / "webdata")
    assert s.max_upload == 5 << 20 and s.max_rows == 10 and s.behind_tls
    assert s.keep_uploads == 43200 and s.trusted_header == "X-Remote-User"
    assert s.session_hours == 2
    o = serve_settings(config, host="127.0.0.1", port=9002, max_rows=20, data=tmp_path / "d")
    assert (o.host, o.port, o.max_rows, o.data) == ("127.0.0.1", 9002, 20, tmp_path / "d")
    d = serve_settings(tmp_path / "none.toml")
    assert (d.host, d.port, d.data, d.keep_uploads_days, d.trusted_header) == (
        "127.0.0.1",
        8080,
        None,
        7,
        "",
    )
    with pytest.raises(ConfigError, match="--port must be a number from 1 to 65,535"):
        serve_settings(config, port=0)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("prot = 8080", "[serve]: unknown key 'prot' (did you mean 'port'?)"),
        ("keep_uploads = 3", "unknown key 'keep_uploads' (did you mean 'keep_uploads_days'?)"),
        ('port = "8080"', "port must be a whole number from 1 to 65535"),
        ("port = 70000", "port must be a whole number from 1 to 65535"),
        ('behind_tls = "yes"', "behind_tls must be true or false, not text"),
        ("max_rows = 2000000", "max_rows must be a whole number from 1 to 1,048,576"),
        ("keep_uploads_days = -1", "keep_uploads_days must be a number (0 or more)"),
        ("session_hours = 0", "session_hours must be a number above 0"),
        ('trusted_header = "X Remote"', "trusted_header is a header name"),
        ('trusted_header = "Authorization"', "trusted_header cannot be Authorization"),
        ("data = 3", "data must be text in quotes"),
    ],
)
def test_a_wrong_serve_key_is_a_clear_error_for_every_command(
    tmp_path: Path, line: str, said: str
) -> None:
    config = tmp_path / "vnimport.toml"
    config.write_text(f"[serve]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_config(config)
    assert said in str(caught.value) and str(config) in str(caught.value)


def test_serve_runs_waitress_with_the_table_and_the_options_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import waitress

    config = tmp_path / "vnimport.toml"
    config.write_text(
        TARGET + '[serve]\nport = 9001\ndata = "webdata"\nmax_rows = 7\nbehind_tls = true\n',
        encoding="utf-8",
    )
    served: dict[str, Any] = {}
    started: list[Cleanup] = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.setattr(Cleanup, "start", lambda self, interval=0: started.append(self))
    assert main(["serve", "--config", str(config), "--host", "127.0.0.2"]) == 0
    assert (served["host"], served["port"]) == ("127.0.0.2", 9001)
    app = served["app"]
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["vnimport.max_rows"] == 7
    assert (tmp_path / "webdata" / "web.sqlite").exists() and len(started) == 1
    assert main(["serve", "--config", str(config), "--port", "9002", "--max-rows", "3"]) == 0
    assert served["port"] == 9002 and served["app"].config["vnimport.max_rows"] == 3


def test_the_users_commands_use_the_data_folder_of_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "vnimport.toml").write_text('[serve]\ndata = "w"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "erin", "--password-stdin"]) == 0
    assert main(["users", "change", "erin", "--role", "company", "--targets", "acme"]) == 0
    user = Store(tmp_path / "w" / "web.sqlite").user("erin")
    assert user is not None and user.role == "company" and user.targets == ("acme",)
    assert main(["users", "change", "erin", "--targets", ""]) == 0
    user = Store(tmp_path / "w" / "web.sqlite").user("erin")
    assert user is not None and user.role == "company" and user.targets == ()
    assert main(["users", "change", "nobody", "--role", "own"]) == 2
    capsys.readouterr()


def test_every_serve_key_is_documented() -> None:
    config = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    web = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    for key in KEYS:
        assert f"| `{key}` |" in config, key
        assert f"\n{key} = " in web, key
    assert "waitress" in web and "X-Forwarded-Proto" in web
    assert 'proxy_set_header X-Remote-User ""' in web  # the proxy strips the trusted header


# ------------------------------------------------------------ upload limits


def test_a_file_with_more_rows_than_allowed_is_refused_clearly(tmp_path: Path) -> None:
    app = make_app(tmp_path, max_rows=2)
    client = sign_in(app, "alice")
    two = upload(client, write_csv(tmp_path / "two.csv", CUSTOMERS[:3]))
    assert two.status_code == 303
    three = upload(client, write_csv(tmp_path / "three.csv", CUSTOMERS[:4]))
    page = text(three)
    assert three.status_code == 400 and 'role="alert"' in page
    assert "more than 2 rows" in page and "Split it" in page
    token = add_user(app.extensions["vnimport"].store, "bot", PASSWORD, "own", ["acme"])
    with (tmp_path / "three.csv").open("rb") as fh:
        answer = app.test_client().post(
            "/api/v1/batches",
            headers={"Authorization": f"Bearer {token}"},
            data={"target": "acme", "file": (fh, "three.csv")},
            content_type="multipart/form-data",
        )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "too-many-rows"
    kept = app.extensions["vnimport"].files.listing("uploads/")
    assert len(kept) == 1 and "three" not in kept[0].key  # the refused are not kept


def test_the_readers_zip_guard_refuses_an_upload_on_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "MAX_UNPACKED", 10 << 20)  # the same guard, at 10 MB
    app = make_app(tmp_path)
    client = sign_in(app, "alice")
    bomb = write_xlsx(tmp_path / "bomb.xlsx", WITH_PROBLEMS)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/zeros.bin", b"\0" * (20 << 20))  # ~20 kB packed
    assert bomb.stat().st_size < 64 * 1024
    answer = upload(client, bomb, type="customer")
    page = text(answer)
    assert answer.status_code == 400 and 'role="alert"' in page
    assert "unpacks to" in page and "more than vnimport reads" in page
    assert str(tmp_path) not in page  # the stored file's path is never shown


def test_the_readers_area_guard_refuses_an_upload_on_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "MAX_AREA", 6)  # the same guard, at 6 cells
    app = make_app(tmp_path)
    client = sign_in(app, "alice")
    answer = upload(client, write_xlsx(tmp_path / "wide.xlsx", WITH_PROBLEMS), type="customer")
    page = text(answer)
    assert answer.status_code == 400 and 'role="alert"' in page
    assert "more than vnimport reads" in page and "split the file" in page


# ------------------------------------------------------------ clean-up


def test_old_uploads_are_deleted_and_the_batch_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path, keep_uploads=3600)
    data = tmp_path / "data"
    store: Store = app.extensions["vnimport"].store
    cleanup: Cleanup = app.extensions["vnimport.cleanup"]
    client = sign_in(app, "alice")
    bid = batch_id(upload(client, write_xlsx(tmp_path / "c.xlsx", WITH_PROBLEMS)))
    files: Files = app.extensions["vnimport"].files
    batch = store.batch(bid)
    assert batch is not None and files.listing(f"batches/{bid}/")
    assert "Gamma AS" in text(client.get(f"/batches/{bid}"))
    files.put(f"uploads/{bid}.edited.xlsx", b"PK")  # an edited copy
    files.put("uploads/0ld.csv", b"x", created=batch.created - 10)  # of no batch
    files.put("uploads/n3w.csv", b"x", created=batch.created + 7200)
    assert files.local_path(f"uploads/{bid}.edited.xlsx") is not None  # this machine's copy

    assert cleanup.sweep(batch.created + 3599) == []  # not old enough yet
    assert files.exists(f"uploads/{batch.stored}")
    assert cleanup.sweep(batch.created + 3601) == [bid]
    assert [f.key for f in files.listing("uploads/")] == ["uploads/n3w.csv"]
    assert not files.listing(f"batches/{bid}/")
    assert not (data / "files" / "uploads" / f"{bid}.edited.xlsx").exists()
    assert cleanup.sweep(batch.created + 99999) == []  # done once

    page = client.get(f"/batches/{bid}")
    shown = text(page)
    assert page.status_code == 200 and "was deleted" in shown and 'role="alert"' in shown
    assert "Gamma AS" not in shown  # the file's cells went with it
    refused = client.post(f"/batches/{bid}/run", data={"csrf_token": csrf(page)})
    assert refused.status_code == 410 and "Upload the file again" in text(refused)
    again = client.post(f"/batches/{bid}/type", data={"csrf_token": csrf(page), "type": "customer"})
    assert again.status_code == 410
    token = add_user(store, "bot", PASSWORD, "admin", [])
    api = app.test_client().post(
        f"/api/v1/batches/{bid}/run", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 410 and "deleted" in api.get_json()["error"]["message"]
    stranger = app.test_client().post(f"/api/v1/batches/{bid}/run")
    assert stranger.status_code == 401  # not told anything about the batch


def test_a_running_batch_is_kept_and_run_reports_stay(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    cleanup: Cleanup = web.app.extensions["vnimport.cleanup"]
    done = batch_id(upload(client, write_csv(tmp_path / "a.csv", CUSTOMERS)))
    page = client.get(f"/batches/{done}")
    run_url = client.post(f"/batches/{done}/run", data={"csrf_token": csrf(page)}).headers[
        "Location"
    ]
    web.held.release()
    waiting = batch_id(upload(client, write_csv(tmp_path / "b.csv", CUSTOMERS)))
    client.post(f"/batches/{waiting}/run", data={"csrf_token": csrf(page)})  # held: queued
    later = max(b.created for b in web.store.batches()) + cleanup.keep + 1
    assert cleanup.sweep(later) == [done]
    reports = [f for f in web.files.listing("runs/") if "/report." in f.key]
    assert reports and all(f.size for f in reports)
    assert web.app.extensions["vnimport"].store.batch(waiting).summary.get("deleted") is None
    assert client.get(run_url).status_code == 200
    got = client.get(f"{run_url}/report.json")
    assert got.status_code == 200
    got.close()
    web.held.release()


def test_nothing_is_deleted_when_uploads_are_kept_for_ever(tmp_path: Path) -> None:
    app = make_app(tmp_path, keep_uploads=0)
    client = sign_in(app, "alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS)))
    assert app.extensions["vnimport.cleanup"].sweep(1e12) == []
    assert "was deleted" not in text(client.get(f"/batches/{bid}"))


def test_the_clean_up_thread_sweeps_at_start_and_stops(tmp_path: Path) -> None:
    swept = threading.Event()

    class Once(Cleanup):
        def sweep(self, now: float | None = None) -> list[str]:
            swept.set()
            return []

    store = Store(tmp_path / "web.sqlite")
    cleanup = Once(store, Files(store.db, tmp_path / "files"), 60, Clock())
    thread = cleanup.start(interval=3600)
    assert thread.daemon and swept.wait(30)
    cleanup.stop()
    thread.join(30)
    assert not thread.is_alive()


# ---------------------------------------------------- sign-in and sessions


def test_a_trusted_header_signs_in_only_when_configured(tmp_path: Path) -> None:
    on = make_app(tmp_path / "on", trusted_header="X-Remote-User")
    client = on.test_client()
    home = client.get("/", headers={"X-Remote-User": "alice"})
    assert home.status_code == 200 and "alice (own batches)" in text(home)
    assert "Sign out" not in text(home)  # the proxy would sign them in again
    unknown = client.get("/", headers={"X-Remote-User": "mallory"})
    assert unknown.status_code == 403 and "no user of that name" in text(unknown)
    assert on.extensions["vnimport"].store.user("mallory") is None  # not made
    assert client.get("/").status_code == 302  # no header: the sign-in form
    api = client.get("/api/v1/batches/x", headers={"X-Remote-User": "alice"})
    assert api.status_code == 401  # the API keeps its bearer tokens

    off = make_app(tmp_path / "off")
    ignored = off.test_client().get("/", headers={"X-Remote-User": "root"})
    assert ignored.status_code == 302 and "/login" in ignored.headers["Location"]
    nobody = off.test_client().get("/", headers={"X-Remote-User": "mallory"})
    assert nobody.status_code == 302


def test_sign_in_attempts_are_limited_per_name_until_a_clock_time(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path, clock=clock)
    client = app.test_client()
    token = csrf(client.get("/login"))

    def attempt(name: str, password: str) -> Any:
        return client.post("/login", data={"name": name, "password": password, "csrf_token": token})

    for i in range(5):
        clock.now += 60
        assert attempt("alice", f"wrong {i}").status_code == 401
    first_failure = clock.now - 4 * 60
    blocked = attempt("alice", PASSWORD)  # the right password, too soon
    until = time.strftime("%H:%M", time.localtime(-(-(first_failure + 900) // 60) * 60))
    assert blocked.status_code == 429 and f"wait until {until}" in text(blocked)
    assert 'role="alert"' in text(blocked)
    assert attempt("root", PASSWORD).status_code == 303  # another name is not held up
    clock.now = first_failure + 900 + 1
    token = csrf(client.get("/login"))
    assert attempt("alice", PASSWORD).status_code == 303


def test_the_limiter_forgets_old_failures_and_many_names() -> None:
    clock = Clock()
    limiter = SignInLimiter(clock, attempts=2, window=100, names=3)
    limiter.failed("a")
    clock.now += 50
    limiter.failed("a")
    assert limiter.blocked_until("a") == clock.now - 50 + 100
    clock.now += 51
    assert limiter.blocked_until("a") is None  # the first failure is out of the window
    for name in "bcde":
        limiter.failed(name)
    assert len(limiter._failures) <= 3
    limiter.failed("e")
    limiter.succeeded("e")
    assert limiter.blocked_until("e") is None


def test_a_session_ends_after_session_hours(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path, clock=clock, session_hours=2)
    client = sign_in(app, "alice")
    clock.now += 2 * 3600 - 1
    assert client.get("/").status_code == 200
    clock.now += 2
    answer = client.get("/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(tmp_path: Path) -> None:
    for tls in (False, True):
        app = make_app(tmp_path / str(tls), behind_tls=tls)
        client = app.test_client()
        answer = client.post(
            "/login",
            data={"name": "alice", "password": PASSWORD, "csrf_token": csrf(client.get("/login"))},
        )
        cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("; Secure" in cookie) is tls


# ------------------------------------------------------------ users page


def test_only_an_admin_sees_the_users_page(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert "/login" in app.test_client().get("/admin/users").headers["Location"]
    alice = sign_in(app, "alice")
    assert alice.get("/admin/users").status_code == 404
    assert "/admin/users" not in text(alice.get("/"))
    form = {"csrf_token": csrf(alice.get("/")), "name": "x", "password": PASSWORD}
    assert alice.post("/admin/users", data=form).status_code == 404
    assert alice.post("/admin/users/alice", data={**form, "role": "admin"}).status_code == 404
    assert alice.post("/admin/users/alice/token", data=form).status_code == 404
    user = app.extensions["vnimport"].store.user("alice")
    assert user is not None and user.role == "own"
    root = sign_in(app, "root")
    page = root.get("/admin/users")
    assert (
        page.status_code == 200 and "alice" in text(page) and "/admin/users" in text(root.get("/"))
    )


def test_an_admin_adds_and_changes_users_and_issues_tokens(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    store: Store = app.extensions["vnimport"].store
    root = sign_in(app, "root")
    token = csrf(root.get("/admin/users"))
    added = root.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "name": "erin",
            "password": PASSWORD,
            "role": "company",
            "targets": ["acme"],
        },
    )
    shown = re.search(r'<code id="new-token">(vni_[^<]+)</code>', text(added))
    assert added.status_code == 201 and shown
    api_token = shown.group(1)
    erin = store.user("erin")
    assert erin is not None and erin.role == "company" and erin.targets == ("acme",)
    raw = (tmp_path / "data" / "web.sqlite").read_bytes()
    assert api_token.encode() not in raw
    assert hashlib.sha256(api_token.encode()).hexdigest().encode() in raw
    assert api_token not in text(root.get("/admin/users"))  # shown once
    api = app.test_client().get(
        "/api/v1/batches/x", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert api.status_code == 404  # signed in: no such batch
    sign_in(app, "erin")  # the password works

    short = root.post(
        "/admin/users", data={"csrf_token": token, "name": "fay", "password": "short"}
    )
    assert (
        short.status_code == 400 and "at least 8" in text(short) and 'role="alert"' in text(short)
    )
    twice = root.post(
        "/admin/users", data={"csrf_token": token, "name": "erin", "password": PASSWORD}
    )
    assert twice.status_code == 400 and "already" in text(twice)
    no_csrf = root.post("/admin/users", data={"name": "gus", "password": PASSWORD})
    assert no_csrf.status_code == 400 and store.user("gus") is None

    changed = root.post(
        "/admin/users/erin", data={"csrf_token": token, "role": "own", "targets": []}
    )
    assert changed.status_code == 303
    erin = store.user("erin")
    assert erin is not None and erin.role == "own" and erin.targets == ()
    bad = root.post("/admin/users/erin", data={"csrf_token": token, "role": "god"})
    assert bad.status_code == 400 and "a role is one of" in text(bad)
    last = root.post("/admin/users/root", data={"csrf_token": token, "role": "own"})
    assert last.status_code == 400 and "only admin" in text(last)
    assert root.post("/admin/users/nobody", data={"csrf_token": token}).status_code == 404

    new = root.post("/admin/users/erin/token", data={"csrf_token": token})
    found = re.search(r'<code id="new-token">(vni_[^<]+)</code>', text(new))
    assert new.status_code == 200 and found and found.group(1) != api_token
    old = app.test_client().get(
        "/api/v1/batches/x", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert old.status_code == 401  # the old token stopped working


# ------------------------------------------------------------ no secret shown


def test_no_page_log_line_or_answer_shows_a_secret_or_a_token(
    web: Web, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin_token = add_user(web.store, "erin", PASSWORD, "admin", [])
    pages: dict[str, str] = {}
    client = web.client("alice")
    erin = web.client("erin")

    def get(c: Any, url: str) -> None:
        answer = c.get(url)
        assert answer.status_code in (200, 404), (url, answer.status_code)
        if answer.mimetype in ("text/html", "application/json"):
            pages[f"{len(pages)} {url}"] = text(answer)
        answer.close()

    bid = batch_id(upload(client, write_xlsx(tmp_path / "c.xlsx", WITH_PROBLEMS)))
    page = client.get(f"/batches/{bid}")
    run_url = client.post(f"/batches/{bid}/run", data={"csrf_token": csrf(page)}).headers[
        "Location"
    ]
    get(client, run_url)
    get(client, run_url + "/progress")
    web.held.release()
    for url in ("/", f"/batches/{bid}", run_url, "/batches/nothing", "/runs/nothing"):
        get(client, url)
        get(erin, url)
    get(erin, "/admin/users")
    get(web.app.test_client(), "/login")
    refused = client.post("/logout", data={"csrf_token": "forged"})
    pages["csrf"] = text(refused)
    bearer = {"Authorization": f"Bearer {admin_token}"}
    api = web.app.test_client()
    for url in (f"/api/v1/batches/{bid}", f"/api/v1/runs/{run_url.rsplit('/', 1)[-1]}"):
        pages[url] = text(api.get(url, headers=bearer))
    issued = erin.post("/admin/users/bob/token", data={"csrf_token": csrf(erin.get("/"))})
    new_bob = re.search(r'<code id="new-token">(vni_[^<]+)</code>', text(issued))
    assert new_bob
    get(erin, "/admin/users")  # after: the new token is not shown again

    visma_tokens = list(getattr(getattr(web.sandbox, "server", None), "_tokens", {}))
    assert visma_tokens, "the run got a token from the sandbox"
    secrets = [DEMO_SECRET, *web.tokens.values(), admin_token, new_bob.group(1), *visma_tokens]
    assert len(pages) >= 12
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        for url, html in pages.items():
            assert secret not in html, url
        assert secret not in logged
