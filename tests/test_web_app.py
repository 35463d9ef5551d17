"""The web app's pages, through Flask's test client, against an embedded
sandbox named as a target of a vnimport.toml: sign in, upload, check,
import, result, and every refusal a user can meet."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv, write_xlsx
from test_api import CUSTOMERS

from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig
from importer.sandbox.process import demo_connection

flask = pytest.importorskip("flask")

from flask.testing import FlaskClient  # noqa: E402

from importer.web.app import create_app  # noqa: E402
from importer.web.files import Files  # noqa: E402
from importer.web.store import Store  # noqa: E402
from importer.web.users import add_user  # noqa: E402

EMPTY = SandboxConfig(company="empty")
PASSWORD = "correct horse battery"
WITH_PROBLEMS = [
    ["Customer number", "Customer name", "Credit limit"],
    ["10001", "Alfa AS", "1000"],
    ["10002", "", "0"],
    ["10003", "Gamma AS", "<b>lots</b>"],
]


class Held:
    """A spawn that keeps the run until :meth:`release`: what was pressed
    before the run started is seen by the test, whatever the speed."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def __call__(self, work: Callable[[], None]) -> None:
        self.pending.append(work)

    def release(self) -> None:
        while self.pending:
            thread = threading.Thread(target=self.pending.pop(0))
            thread.start()
            thread.join()


@dataclass
class Web:
    app: Any
    sandbox: Sandbox
    data: Path
    held: Held
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, name: str | None = None) -> FlaskClient:
        client = self.app.test_client()
        if name:
            page = client.get("/login")
            answer = client.post(
                "/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf(page)}
            )
            assert answer.status_code == 303, answer.get_data(as_text=True)
        return client

    @property
    def store(self) -> Store:
        store: Store = self.app.extensions["vnimport"].store
        return store

    @property
    def files(self) -> Files:
        """The files kept in the store's database (uploads, reports ...)."""
        files: Files = self.app.extensions["vnimport"].files
        return files


def toml_target(sb: Sandbox, name: str, journal: Path) -> str:
    conn = demo_connection(sb.url)
    return (
        f'[targets.{name}]\nbase_url = "{conn.base_url}"\ntoken_url = "{conn.token_url}"\n'
        f'client_id = "{conn.client_id}"\ntenant_id = "{conn.tenant_id}"\n'
        f'client_secret = "{DEMO_SECRET}"\njournal = "{journal}"\nkind = "test"\n'
    )


@pytest.fixture(name="web")
def web_fixture(tmp_path: Path) -> Iterator[Web]:
    with Sandbox(EMPTY) as sb, Sandbox(EMPTY) as other:
        config = tmp_path / "vnimport.toml"
        config.write_text(
            toml_target(sb, "acme", tmp_path / "acme.sqlite")
            + toml_target(other, "beta", tmp_path / "beta.sqlite"),
            encoding="utf-8",
        )
        held = Held()
        app = create_app(tmp_path / "data", config, max_upload=64 * 1024, spawn=held)
        store: Store = app.extensions["vnimport"].store
        web = Web(app, sb, tmp_path / "data", held)
        web.tokens["alice"] = add_user(store, "alice", PASSWORD, "own", ["acme"])
        web.tokens["bob"] = add_user(store, "bob", PASSWORD, "own", ["acme"])
        web.tokens["carol"] = add_user(store, "carol", PASSWORD, "company", ["acme"])
        web.tokens["dan"] = add_user(store, "dan", PASSWORD, "own", ["beta"])
        yield web


def csrf(page: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "no CSRF token on the page"
    return found.group(1)


def upload(client: FlaskClient, path: Path, **form: str) -> Any:
    token = csrf(client.get("/"))
    with path.open("rb") as fh:
        return client.post(
            "/batches",
            data={
                "csrf_token": token,
                "target": "acme",
                "type": "",
                **form,
                "file": (fh, path.name),
            },
            content_type="multipart/form-data",
        )


def batch_id(answer: Any) -> str:
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return str(answer.headers["Location"]).rsplit("/", 1)[-1]


# ---------------------------------------------------------------- sign in


def test_every_page_asks_to_sign_in_first(web: Web) -> None:
    client = web.client()
    for path in ("/", "/batches/x", "/runs/x", "/templates/customer.xlsx"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    page = client.get("/login")
    assert page.status_code == 200 and 'type="password"' in page.get_data(as_text=True)


def test_signing_in_sets_a_safe_cookie_and_a_wrong_password_is_refused(web: Web) -> None:
    client = web.client()
    token = csrf(client.get("/login"))
    wrong = client.post("/login", data={"name": "alice", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.get_data(as_text=True)
    nobody = client.post("/login", data={"name": "zed", "password": PASSWORD, "csrf_token": token})
    assert nobody.status_code == 401
    right = client.post(
        "/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert right.status_code == 303
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    home = client.get("/")
    assert home.status_code == 200 and "alice" in home.get_data(as_text=True)
    signed_out = client.post("/logout", data={"csrf_token": csrf(home)})
    assert signed_out.status_code == 303 and client.get("/").status_code == 302


def test_behind_tls_the_cookie_is_secure(tmp_path: Path) -> None:
    app = create_app(tmp_path / "data", tmp_path / "none.toml", behind_tls=True)
    add_user(app.extensions["vnimport"].store, "alice", PASSWORD, "admin", [])
    client = app.test_client()
    token = csrf(client.get("/login"))
    answer = client.post(
        "/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert "Secure" in answer.headers["Set-Cookie"]


def test_a_form_without_the_right_csrf_token_is_refused(web: Web) -> None:
    client = web.client("alice")
    refused = client.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 400 and "reload the page" in refused.get_data(as_text=True)
    assert client.post("/logout").status_code == 400
    login = web.client().post("/login", data={"name": "alice", "password": PASSWORD})
    assert login.status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_a_next_address_never_leaves_the_site(web: Web) -> None:
    client = web.client()
    token = csrf(client.get("/login"))
    answer = client.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf_token": token, "next": "//evil.test/"},
    )
    assert answer.headers["Location"] == "/"


def test_pages_carry_a_strict_policy_and_no_secret(web: Web) -> None:
    client = web.client("alice")
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert DEMO_SECRET not in page.get_data(as_text=True)
    script = client.get("/static/htmx-2.0.11.min.js")
    assert script.status_code == 200 and b"htmx" in script.data
    script.close()


# --------------------------------------------------------- upload and check


def test_an_upload_is_checked_and_problems_shown_on_their_cells(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    src = write_xlsx(tmp_path / "customers.xlsx", WITH_PROBLEMS)
    answer = upload(client, src)
    page = client.get(f"/batches/{batch_id(answer)}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="customer" selected' in text  # suggested from the headers
    assert "&lt;b&gt;lots&lt;/b&gt;" in text and "<b>lots</b>" not in text  # shown as text
    assert text.count('aria-invalid="true"') == 2  # the two bad cells, not the good rows
    assert "Alfa AS" not in text  # only rows with problems
    assert "Import 1 document into acme" in text
    stored = [Path(f.key) for f in web.files.listing("uploads/")]
    assert [p.suffix for p in stored] == [".xlsx"] and "customers" not in stored[0].name
    fixme = client.get(f"/batches/{batch_id(answer)}/fixme.xlsx")
    assert fixme.status_code == 200 and fixme.data.startswith(b"PK")
    assert "customers.fixme.xlsx" in fixme.headers["Content-Disposition"]
    fixme.close()


def test_the_type_can_be_changed_and_is_checked_again(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS)))
    page = client.get(f"/batches/{bid}")
    token = csrf(page)
    wrong = client.post(f"/batches/{bid}/type", data={"type": "supplier", "csrf_token": token})
    assert wrong.status_code == 400  # a supplier has no customer columns: said, not guessed
    assert "Supplier name" in wrong.get_data(as_text=True)
    assert 'value="customer" selected' in client.get(f"/batches/{bid}").get_data(as_text=True)
    again = client.post(f"/batches/{bid}/type", data={"type": "customer", "csrf_token": token})
    assert again.status_code == 303


def test_an_oversized_file_gets_a_page_that_says_so(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    big = tmp_path / "big.csv"
    big.write_text("Customer number;Customer name\n" + "1;x\n" * 20_000, encoding="utf-8")
    answer = upload(client, big)
    assert answer.status_code == 413
    assert "too large" in answer.get_data(as_text=True) and "<h1>" in answer.get_data(as_text=True)


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_page(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    fake = tmp_path / "invoice.xlsx"
    fake.write_bytes(b"%PDF-1.7 not a workbook")
    answer = upload(client, fake)
    assert answer.status_code == 400
    assert "is not an Excel workbook" in answer.get_data(as_text=True)
    exe = tmp_path / "run.exe"
    exe.write_bytes(b"MZ")
    assert upload(client, exe).status_code == 400
    assert web.files.listing("uploads/") == []  # nothing kept
    assert web.store.batches() == []


def test_a_company_the_user_may_not_use_is_refused(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    answer = upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS), target="beta")
    assert answer.status_code == 400 and "Choose a company" in answer.get_data(as_text=True)
    assert "beta" not in client.get("/").get_data(as_text=True)


def test_another_users_batch_is_not_found_unless_the_role_lets_them_see_it(
    web: Web, tmp_path: Path
) -> None:
    bid = batch_id(upload(web.client("alice"), write_csv(tmp_path / "c.csv", CUSTOMERS)))
    bob = web.client("bob")
    assert bob.get(f"/batches/{bid}").status_code == 404
    assert bob.get(f"/batches/{bid}/fixme.xlsx").status_code == 404
    token = csrf(bob.get("/"))
    assert bob.post(f"/batches/{bid}/run", data={"csrf_token": token}).status_code == 404
    assert "c.csv" not in bob.get("/").get_data(as_text=True)
    carol = web.client("carol")  # role company: every batch of acme
    assert carol.get(f"/batches/{bid}").status_code == 200
    assert web.client("dan").get(f"/batches/{bid}").status_code == 404


def test_a_template_can_be_downloaded(web: Web) -> None:
    client = web.client("alice")
    answer = client.get("/templates/customer_invoice.xlsx")
    assert answer.status_code == 200 and answer.data.startswith(b"PK")
    answer.close()
    assert client.get("/templates/nothing.xlsx").status_code == 404


# ------------------------------------------------------------------ import


def test_import_through_the_forms_end_to_end(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_xlsx(tmp_path / "customers.xlsx", WITH_PROBLEMS)))
    token = csrf(client.get(f"/batches/{bid}"))
    started = client.post(f"/batches/{bid}/run", data={"csrf_token": token, "mode": "create"})
    assert started.status_code == 303
    run_url = started.headers["Location"]
    waiting = client.get(run_url).get_data(as_text=True)
    assert "Waiting to start" in waiting and 'http-equiv="refresh"' in waiting
    assert "hx-trigger" in waiting
    progress = client.get(run_url + "/progress")
    assert progress.status_code == 200 and 'role="status"' in progress.get_data(as_text=True)

    web.held.release()
    assert web.sandbox.count("customer") == 1
    done = client.get(run_url)
    text = done.get_data(as_text=True)
    assert "Finished with problems" in text and "Done: every row" not in text
    assert "10001" in text and "created" in text and "invalid" in text
    assert 'http-equiv="refresh"' not in text
    moved = client.get(run_url + "/progress")  # a page refreshed without JavaScript
    assert moved.status_code == 302 and moved.headers["Location"] == run_url
    # htmx is told in a header of a 200: a redirect would be followed inside
    # its request and the whole result page swapped into the progress box
    moved = client.get(run_url + "/progress", headers={"HX-Request": "true"})
    assert moved.status_code == 200 and moved.headers["HX-Redirect"] == run_url
    assert moved.get_data() == b""
    for name in ("report.xlsx", "report.csv", "report.json", "fixme.xlsx"):
        got = client.get(f"{run_url}/{name}")
        assert got.status_code == 200, name
        got.close()
    assert client.get(f"{run_url}/secret_key").status_code == 404
    assert web.client("bob").get(run_url).status_code == 404


def test_import_pressed_twice_is_one_run_and_no_duplicate(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS)))
    token = csrf(client.get(f"/batches/{bid}"))
    first = client.post(f"/batches/{bid}/run", data={"csrf_token": token})
    second = client.post(f"/batches/{bid}/run", data={"csrf_token": token})  # double click
    other = web.client("carol")  # a second session
    third = other.post(f"/batches/{bid}/run", data={"csrf_token": csrf(other.get("/"))})
    assert first.headers["Location"] == second.headers["Location"] == third.headers["Location"]
    assert len(web.held.pending) == 1
    web.held.release()
    again = client.post(f"/batches/{bid}/run", data={"csrf_token": token})  # refresh after
    assert again.headers["Location"] == first.headers["Location"] and not web.held.pending
    assert web.sandbox.count("customer") == 3
    text = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Done: every row is in Visma." in text


def test_a_batch_with_nothing_valid_cannot_be_imported(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    rows = [["Customer number", "Customer name"], ["1", ""]]
    bid = batch_id(upload(client, write_csv(tmp_path / "bad.csv", rows)))
    page = client.get(f"/batches/{bid}")
    assert "No document is ready to import" in page.get_data(as_text=True)
    refused = client.post(f"/batches/{bid}/run", data={"csrf_token": csrf(page)})
    assert refused.status_code == 400 and not web.held.pending


def test_a_run_left_by_a_stopped_server_shows_as_interrupted(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_csv(tmp_path / "c.csv", CUSTOMERS)))
    token = csrf(client.get(f"/batches/{bid}"))
    run_url = client.post(f"/batches/{bid}/run", data={"csrf_token": token}).headers["Location"]
    restarted = create_app(web.data, None)  # the server killed and started again
    client2 = restarted.test_client()
    login = client2.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf_token": csrf(client2.get("/login"))},
    )
    assert login.status_code == 303
    text = client2.get(run_url).get_data(as_text=True)
    assert "The server stopped during this run" in text
    assert web.sandbox.count("customer") == 0


def test_the_home_page_lists_what_the_user_may_see(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    batch_id(upload(client, write_csv(tmp_path / "mine.csv", CUSTOMERS)))
    assert "mine.csv" in client.get("/").get_data(as_text=True)
    assert "mine.csv" in web.client("carol").get("/").get_data(as_text=True)
    assert "mine.csv" not in web.client("bob").get("/").get_data(as_text=True)


def test_an_empty_upload_form_says_what_to_do(web: Web) -> None:
    client = web.client("alice")
    token = csrf(client.get("/"))
    answer = client.post(
        "/batches",
        data={"csrf_token": token, "file": (io.BytesIO(b""), "")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400 and "Choose a file" in answer.get_data(as_text=True)
