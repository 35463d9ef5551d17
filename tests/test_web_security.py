"""What an attacker tried on the web app, and what it must answer: a user
taken off a company changes nothing there, no redirect leaves the site,
signing out ends the session everywhere, edits at the same moment are
made one after the other, the last admin stays one, and hostile input
gets a clear refusal, never a 500."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import pytest
from conftest import write_csv, write_xlsx
from test_api import CUSTOMERS

pytest.importorskip("flask")

from test_web_app import (
    WITH_PROBLEMS,
    Web,
    batch_id,
    csrf,
    upload,
    web_fixture,  # noqa: F401 - the fixture
)
from test_web_runs import auth, journal_run_of, post, start, text

from importer.web.users import add_user, change_user


def test_a_user_taken_off_a_company_sees_their_runs_but_changes_nothing_there(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    url = start(web, client, write_csv(tmp_path / "c.csv", CUSTOMERS))
    web.held.release()
    journal_run = journal_run_of(web, url)
    bid = batch_id(upload(client, write_xlsx(tmp_path / "p.xlsx", WITH_PROBLEMS)))
    change_user(web.store, "alice", "own", ["beta"])  # the admin moves her to beta

    page = text(client, url)  # her own run: still shown
    assert "Undo journal run" not in page and "Reconcile journal run" not in page
    for path, form in (
        (url + "/undo", {"journal_run": journal_run}),
        (url + "/reconcile", {"journal_run": journal_run}),
        (url + "/resume", {}),
        (f"/batches/{bid}/preflight", {}),
        (f"/batches/{bid}/cells", {"sheet": "Sheet1", "row": "3", "col": "1", "new": "Beta"}),
        (f"/batches/{bid}/run", {}),
    ):
        answer = post(client, path, **form)
        assert answer.status_code == 403, path
        assert "You may no longer use the company acme" in answer.get_data(as_text=True)
    api = web.app.test_client()
    for path in (f"{url}/undo", f"{url}/reconcile"):
        answer = api.post(
            "/api/v1" + path, json={"journal_run": journal_run}, headers=auth(web, "alice")
        )
        assert answer.status_code == 403, path
    web.held.release()
    assert {c["status"] for c in web.sandbox.documents("customer")} == {"Active"}
    assert web.store.actions_of(url.rsplit("/", 1)[-1]) == []


@pytest.mark.parametrize(
    "next_", ["/\t/evil.example/", "/\\evil.example", "//evil.example", "/ /evil", "/\n/x"]
)
def test_signing_in_never_sends_the_browser_to_another_site(web: Web, next_: str) -> None:
    client = web.client()
    token = csrf(client.get("/login"))
    answer = client.post(
        "/login",
        data={"name": "alice", "password": "correct horse battery", "csrf_token": token,
              "next": next_},
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_signing_out_ends_the_session_in_every_copy_of_its_cookie(web: Web) -> None:
    client = web.client("carol")
    cookie = client.get_cookie("vnimport_session")
    assert cookie is not None
    stolen = web.app.test_client()
    stolen.set_cookie("vnimport_session", cookie.value)
    assert stolen.get("/runs").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client.get("/"))})
    assert stolen.get("/runs").status_code == 302  # to the sign-in page
    assert web.client("carol").get("/runs").status_code == 200  # signing in again works


def test_edits_made_at_the_same_moment_are_all_in_the_copy_the_run_reads(
    web: Web, tmp_path: Path
) -> None:
    rows = [CUSTOMERS[0]] + [[str(30001 + i), "", "100"] for i in range(6)]
    client = web.client("alice")
    bid = batch_id(upload(client, write_xlsx(tmp_path / "blank.xlsx", rows)))
    token = csrf(client.get(f"/batches/{bid}"))
    answers: list[int] = []

    def edit(row: int) -> None:
        mine = web.client("alice")
        page = mine.get(f"/batches/{bid}")
        answer = mine.post(
            f"/batches/{bid}/cells",
            data={"csrf_token": csrf(page), "sheet": "Sheet1", "row": str(row), "col": "1",
                  "old": "", "new": f"Name {row} AS"},
        )  # fmt: skip
        answers.append(answer.status_code)

    threads = [threading.Thread(target=edit, args=(row,)) for row in range(2, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [303] * 6 and token
    page = text(client, f"/batches/{bid}")
    assert "Name 2 AS" in page and "Name 7 AS" in page
    service = web.app.extensions["vnimport"]
    import openpyxl

    copy = service.files.local_path(f"uploads/{bid}.edited.xlsx")
    names = [r[1] for r in openpyxl.load_workbook(copy).active.iter_rows(values_only=True)]
    assert names[1:] == [f"Name {row} AS" for row in range(2, 8)]


def test_two_admins_taking_each_others_role_at_once_leave_one_admin(web: Web) -> None:
    add_user(web.store, "root", "correct horse battery", "admin", [])
    add_user(web.store, "root2", "correct horse battery", "admin", [])
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def demote(name: str) -> None:
        barrier.wait()
        try:
            change_user(web.store, name, "own", [])
        except Exception as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=demote, args=(n,)) for n in ("root", "root2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [u.name for u in web.store.users() if u.role == "admin"] != []
    assert len(errors) == 1 and "only admin" in errors[0]


def test_hostile_values_and_files_get_a_clear_refusal_not_a_500(web: Web, tmp_path: Path) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_xlsx(tmp_path / "p.xlsx", WITH_PROBLEMS)))
    for new, says in (("a\x01b", "control character"), ("x" * 40_000, "at most 32767")):
        page = client.get(f"/batches/{bid}")
        answer = client.post(
            f"/batches/{bid}/cells",
            data={"csrf_token": csrf(page), "sheet": "Sheet1", "row": "3", "col": "1",
                  "old": "", "new": new},
        )  # fmt: skip
        assert answer.status_code in (400, 409), answer.status_code
        assert says in answer.get_data(as_text=True)

    deep = "x = " + "[" * 20_000 + "]" * 20_000 + "\n"
    api = web.app.test_client()
    with (tmp_path / "c.csv").open("wb") as fh:
        fh.write(b"Customer number;Customer name\n1;A\n")
    answer = api.post(
        "/api/v1/batches",
        data={
            "file": (io.BytesIO((tmp_path / "c.csv").read_bytes()), "c.csv"),
            "type": "customer",
            "mapping": (io.BytesIO(deep.encode()), "m.toml"),
        },
        headers=auth(web, "alice"),
        content_type="multipart/form-data",
    )
    assert (
        answer.status_code == 400 and "nests its tables too deep" in answer.json["error"]["message"]
    )


def test_a_workbook_too_large_to_rewrite_is_not_edited_in_the_page(
    web: Web, tmp_path: Path
) -> None:
    """A small file that unpacks to a huge sheet: the reader takes it (the
    sheet is not the one read), the page's edit refuses to load it whole."""
    book = write_xlsx(tmp_path / "p.xlsx", WITH_PROBLEMS)
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/padding.xml", "<c><v>1</v></c>" * 1_500_000)
    client = web.client("alice")
    bid = batch_id(upload(client, book))
    page = client.get(f"/batches/{bid}")
    answer = client.post(
        f"/batches/{bid}/cells",
        data={"csrf_token": csrf(page), "sheet": "Sheet1", "row": "3", "col": "1",
              "old": "", "new": "Beta AS"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "too large to be changed in the page" in answer.get_data(as_text=True)


def test_every_api_answer_is_not_stored_by_caches(web: Web) -> None:
    api = web.app.test_client()
    for path in ("/api/v1/runs", "/api/v1/batches/nope"):
        answer = api.get(path, headers=auth(web, "alice"))
        assert answer.headers["Cache-Control"] == "no-store", path


def test_the_same_export_uploaded_by_two_users_is_undone_only_by_its_own_run(
    web: Web, tmp_path: Path
) -> None:
    """The journal knows a run by the user's file name and its bytes: bob's
    upload of the same file must not offer alice's journal run to undo."""
    src = write_csv(tmp_path / "c.csv", CUSTOMERS)
    alice = start(web, web.client("alice"), src)
    web.held.release()
    bob = start(web, web.client("bob"), src)
    web.held.release()
    alices = journal_run_of(web, alice)
    page = text(web.client("bob"), bob)
    assert alices not in page
    answer = post(web.client("bob"), bob + "/undo", journal_run=alices)
    assert answer.status_code == 404  # not a run of this import


def test_a_database_password_never_shows_in_an_address() -> None:
    from importer.targets.postgres import safe_text, safe_url

    for address in (
        "postgresql://u:s3cret@db:5432/x",
        "postgresql://u@db/x?password=s3cret",
        "postgresql://u@db/x?sslmode=require&password=s3%63ret",
    ):
        assert "s3cret" not in safe_url(address) and "s3%63ret" not in safe_url(address)
        assert "s3cret" not in safe_text(f"could not connect: {address} s3cret", address)


def test_a_queued_jobs_mapping_may_not_read_value_files_a_worker_lacks() -> None:
    from importer.queue import _reads_value_files

    assert _reads_value_files(b'[values."Customer number"]\nfile = "register.xlsx"\n')
    assert not _reads_value_files(b'[values."VAT code"]\n"25" = "3"\n')


def test_import_waits_for_an_edit_being_saved_and_an_edit_after_it_is_refused(
    web: Web, tmp_path: Path
) -> None:
    client = web.client("alice")
    bid = batch_id(upload(client, write_xlsx(tmp_path / "p.xlsx", WITH_PROBLEMS)))
    answers: list[int] = []
    pressed = threading.Thread(target=lambda: answers.append(_press_import(web, bid)))
    with web.store.batch_lock(bid):  # an edit is being saved
        pressed.start()
        pressed.join(timeout=0.5)
        assert web.store.run_of_batch(bid) is None  # Import waits for it
    pressed.join()
    assert answers == [303] and web.store.run_of_batch(bid) is not None
    page = client.get(f"/batches/{bid}")
    late = client.post(
        f"/batches/{bid}/cells",
        data={"csrf_token": csrf(page), "sheet": "Sheet1", "row": "3", "col": "1",
              "old": "", "new": "Beta AS"},
    )  # fmt: skip
    assert late.status_code in (400, 409) and "was imported" in late.get_data(as_text=True)


def _press_import(web: Web, bid: str) -> int:
    mine = web.client("alice")
    page = mine.get(f"/batches/{bid}")
    return int(mine.post(f"/batches/{bid}/run", data={"csrf_token": csrf(page)}).status_code)
