"""The web app in a real browser: Debian's Chromium, headless, driven by
Playwright, against ``vnimport serve`` running in its own process over a
sandbox on loopback. Each page is checked with axe-core (no serious or
critical violation) and its console watched for policy violations.

Run them with ``CI=true .venv/bin/pytest tests/test_web_browser.py`` after
``apt-get install chromium`` (see the README); without Chromium or
Playwright they skip with the reason, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from browser import (
    EVERY_PAGE_BATCH,
    Server,
    chromium,
    free_port,
    missing_browser,
    new_page,
    serious_axe_violations,
    served,
    sign_in,
    walk_every_page,
)
from conftest import write_xlsx

from importer.sandbox import Sandbox, SandboxConfig
from importer.sandbox.config import Faults

pytest.importorskip("flask")

EMPTY = SandboxConfig(company="empty")
WITH_MISTAKES = [
    ["Customer number", "Customer name", "Credit limit"],
    ["20001", "Alfa AS", "1000"],
    ["20002", "", "0"],
    ["20003", "Gamma AS", "lots"],
    ["20004", "Delta AS", "250"],
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = missing_browser()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(reason)
    with chromium() as b:
        yield b


class Checked:
    """A page of the app, with every visit checked by axe and the console."""

    def __init__(self, browser: Any, locale: str = "en-GB") -> None:
        self.context, self.page, self.console = new_page(browser, locale)
        self.seen: list[str] = []

    def check(self, label: str) -> None:
        problems = serious_axe_violations(self.page)
        assert problems == [], f"{label}: {problems}"
        assert self.console.violations() == [], f"{label}: {self.console.violations()}"
        # one page: never a page swapped inside another's box
        assert self.page.locator("h1").count() == 1, label
        assert "hx-on" not in self.page.content(), label  # no inline handlers for htmx
        self.seen.append(label)

    def close(self) -> None:
        assert self.console.violations() == []
        self.context.close()


def _api(server: Server, token: str, path: str, **kw: Any) -> Any:
    request = urllib.request.Request(
        server.url + path, headers={"Authorization": f"Bearer {token}"}, **kw
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = answer.read()
    return json.loads(body) if body[:1] in (b"{", b"[") else body


def test_an_accountant_uploads_fixes_imports_and_downloads_the_report(
    browser: Any, tmp_path: Path
) -> None:
    with Sandbox(EMPTY) as sb, served(tmp_path / "site", sb) as server:
        server.add_user("anna")
        server.start()
        app = Checked(browser)
        page = app.page

        page.goto(server.url + "/")
        page.wait_for_url("**/login**")
        app.check("sign in")
        sign_in(page, server, "anna")
        app.check("home")
        # htmx runs under the strict policy: no inline styles, no eval
        config = "() => [htmx.config.includeIndicatorStyles, htmx.config.allowEval]"
        assert page.evaluate(config) == [False, False]

        # upload a workbook with two mistakes: the check marks each on its cell
        book = write_xlsx(tmp_path / "customers.xlsx", WITH_MISTAKES)
        page.get_by_label("File").set_input_files(str(book))
        page.get_by_role("button", name="Upload and check").click()
        page.wait_for_url("**/batches/**")
        app.check("check")
        first_batch = page.url
        bad = page.locator("td.bad")
        assert bad.count() == 2
        assert "lots" in bad.nth(1).inner_text()

        # one cell fixed in the page: recorded, checked again
        name = page.get_by_label("New value for Customer name, row 3")
        name.fill("Beta AS")
        page.locator("form.edit", has=name).get_by_role("button", name="Save").click()
        page.get_by_text("Edited in the page").wait_for()
        app.check("check after an edit")
        assert page.locator("td.bad").count() == 1

        # the rest in the fix-me workbook: fixed in "Excel" and uploaded again
        with page.expect_download() as got:
            page.get_by_role("link", name="Download the fix-me workbook").click()
        fixme = tmp_path / "fixme.xlsx"
        got.value.save_as(fixme)
        _fix_in_excel(fixme, {"lots": "750"})
        page.goto(server.url + "/")
        page.get_by_label("File").set_input_files(str(fixme))
        page.get_by_role("button", name="Upload and check").click()
        page.wait_for_url("**/batches/**")
        assert page.locator("td.bad").count() == 0

        # the fixed row first, watching its progress to the end
        page.get_by_role("button", name="Import").click()
        page.wait_for_url("**/runs/**")
        page.get_by_text("Done: every row is in Visma.").wait_for(timeout=120_000)
        app.check("result")
        assert sb.count("customer") == 1
        report = _download(page, "xlsx", tmp_path / "fixed.report.xlsx")
        assert _cells(report, "750")

        # then the first file: its rows and the cell fixed in the page
        page.goto(first_batch)
        page.get_by_role("button", name="Import").click()
        page.wait_for_url("**/runs/**")
        page.get_by_text("Finished with problems").wait_for(timeout=120_000)
        assert sb.count("customer") == 4
        report = _download(page, "xlsx", tmp_path / "first.report.xlsx")
        assert _cells(report, "Beta AS")
        assert "Edits" in openpyxl.load_workbook(report, read_only=True).sheetnames
        app.close()


def test_the_same_through_the_json_api(browser: Any, tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb, served(tmp_path / "site", sb) as server:
        token = server.add_user("script")
        server.start()
        book = write_xlsx(tmp_path / "customers.xlsx", WITH_MISTAKES)
        batch = _upload(server, token, book, "customer")
        assert batch["documents"] == 4 and batch["valid_documents"] == 2
        assert {i["row"] for i in batch["issues"]} == {3, 4}
        run = _api(server, token, f"/api/v1/batches/{batch['id']}/run", method="POST", data=b"")
        state = _wait_run(server, token, run["run"])
        assert state["status"] == "finished" and state["counts"] == {"created": 2, "invalid": 2}
        report = _api(server, token, f"/api/v1/runs/{run['run']}/report.json")
        assert report["counts"] == {"created": 2, "invalid": 2}
        assert sb.count("customer") == 2


def _upload(server: Server, token: str, path: Path, doctype: str) -> Any:
    boundary = "vnimport-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n{doctype}\r\n',
    ]
    body = (
        "".join(parts).encode()
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
    )
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        server.url + "/api/v1/batches",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def _wait_run(server: Server, token: str, run_id: str, until: tuple[str, ...] = ()) -> Any:
    """Polls the run until it ends (or reaches a status of ``until``); the
    bound is the test's, the speed is the machine's."""
    import time

    ends = until or ("finished", "failed", "stopped", "interrupted")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = _api(server, token, f"/api/v1/runs/{run_id}")
        if state["status"] in ends:
            return state
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end: {state}")


def _download(page: Any, link: str, path: Path) -> Path:
    with page.expect_download() as got:
        page.get_by_role("link", name=link, exact=True).click()
    got.value.save_as(path)
    return path


def _fix_in_excel(path: Path, fixes: dict[str, str]) -> None:
    """As an accountant does in Excel: each cell holding a key gets its value."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.value in fixes:
                cell.value = fixes[str(cell.value)]
    book.save(path)


def _cells(path: Path, value: str) -> bool:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return any(
            str(v) == value
            for ws in book.worksheets
            for r in ws.iter_rows(values_only=True)
            for v in r
        )
    finally:
        book.close()


def test_double_click_refresh_and_two_sessions_make_one_run(browser: Any, tmp_path: Path) -> None:
    with Sandbox(EMPTY) as sb, served(tmp_path / "site", sb) as server:
        server.add_user("anna", role="company")
        server.add_user("bjorn", role="company")
        server.start()
        rows = [WITH_MISTAKES[0]] + [[f"3000{i}", f"Kunde {i} AS", "100"] for i in range(1, 7)]
        book = write_xlsx(tmp_path / "customers.xlsx", rows)
        one, two = Checked(browser), Checked(browser)
        sign_in(one.page, server, "anna")
        sign_in(two.page, server, "bjorn")
        one.page.get_by_label("File").set_input_files(str(book))
        one.page.get_by_role("button", name="Upload and check").click()
        one.page.wait_for_url("**/batches/**")
        two.page.goto(one.page.url)  # a colleague opens the same batch

        one.page.get_by_role("button", name="Import").dblclick()
        one.page.wait_for_url("**/runs/**")
        first = one.page.url
        one.page.reload()  # the refresh lands on the run, never a second POST
        two.page.get_by_role("button", name="Import").click()
        two.page.wait_for_url("**/runs/**")
        assert two.page.url == one.page.url == first
        for app in (one, two):
            app.page.get_by_text("Done: every row is in Visma.").wait_for(timeout=120_000)
        assert sb.count("customer") == 6
        one.close()
        two.close()


def test_a_server_killed_mid_run_shows_it_interrupted_and_resumes_it_without_duplicates(
    browser: Any, tmp_path: Path
) -> None:
    """The run is held by Visma's rate limit (a quota of a few calls an
    hour) when the server is killed; Visma is then started again on the same
    port and data without the limit, the server too, and Resume sends only
    what is missing."""
    db = tmp_path / "visma.sqlite"
    port = free_port()
    rows = [WITH_MISTAKES[0]] + [[f"4000{i}", f"Kunde {i} AS", "100"] for i in range(1, 7)]
    book = write_xlsx(tmp_path / "customers.xlsx", rows)
    limited = SandboxConfig(company="empty", db=str(db), rate_limit=4, rate_window=1800)
    with Sandbox(limited, port=port) as sb, served(tmp_path / "site", sb) as server:
        token = server.add_user("anna")
        server.start()
        batch = _upload(server, token, book, "customer")
        run = _api(server, token, f"/api/v1/batches/{batch['id']}/run", method="POST", data=b"")
        state = _wait_progress(server, token, run["run"], "waiting")
        assert state["status"] == "running"
        server.kill()
        sent = sb.count("customer")
        assert 0 < sent < 6
    with Sandbox(SandboxConfig(company="empty", db=str(db)), port=port) as sb:
        server.start()
        app = Checked(browser)
        sign_in(app.page, server, "anna")
        app.page.goto(f"{server.url}/runs/{run['run']}")
        app.page.get_by_text("interrupted", exact=False).first.wait_for()
        app.check("interrupted run")
        app.page.get_by_role("button", name="Resume").click()
        app.page.get_by_text("Done: every row is in Visma.").wait_for(timeout=120_000)
        assert sb.count("customer") == 6
        runs = _api(server, token, f"/api/v1/batches/{batch['id']}")
        assert runs["run"] == run["run"]
        app.close()
        server.stop()


def _wait_progress(server: Server, token: str, run_id: str, phase: str) -> Any:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = _api(server, token, f"/api/v1/runs/{run_id}")
        if state["progress"]["phase"] == phase:
            return state
        assert state["status"] in ("queued", "running"), state
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {phase}: {state}")


def test_a_norwegian_browser_gets_norwegian_pages_and_can_choose_english(
    browser: Any, tmp_path: Path
) -> None:
    with Sandbox(EMPTY) as sb, served(tmp_path / "site", sb) as server:
        server.add_user("kari")
        server.start()
        app = Checked(browser, locale="nb-NO")
        page = app.page
        sign_in(page, server, "kari", button="Logg inn")
        assert page.locator("html").get_attribute("lang") == "nb"
        page.get_by_role("button", name="Last opp og kontroller").wait_for()
        book = write_xlsx(tmp_path / "kunder.xlsx", WITH_MISTAKES)
        page.get_by_label("Fil (.xlsx eller .csv").set_input_files(str(book))
        page.get_by_role("button", name="Last opp og kontroller").click()
        page.wait_for_url("**/batches/**")
        app.check("check in Norwegian")
        assert page.get_by_label("Ny verdi for Customer name, rad 3").count() == 1
        # the library's own words too: each problem and its kind in Norwegian
        page.get_by_text("Customer name er tom; en verdi er påkrevd").wait_for()
        page.get_by_role("cell", name="En verdi er påkrevd required").wait_for()
        page.get_by_label("Språk").select_option("en")
        page.get_by_role("button", name="Endre").click()
        page.get_by_role("button", name="Check as this type").wait_for()
        assert page.locator("html").get_attribute("lang") == "en"
        app.close()


def test_every_page_passes_axe_with_no_policy_violation(browser: Any, tmp_path: Path) -> None:
    """The same walk as the screenshots in docs/web.md: sign in, upload, the
    check and the check against the company, the file and columns pages,
    an edit, progress, result, reconcile, undo's dry run, the runs, the
    journal, the users page, and a page in Norwegian."""
    # Visma a little slow, so the progress box is polled (and replaced by the
    # result page) while the run goes on
    slow = SandboxConfig(company="demo", faults=Faults(latency_ms=150))
    with Sandbox(slow) as sb, served(tmp_path / "site", sb) as server:
        server.add_user("anna", role="admin")
        server.start()
        app = Checked(browser)
        book = write_xlsx(tmp_path / "customers.xlsx", EVERY_PAGE_BATCH)
        walk_every_page(app.page, server, book, app.check)
        assert len(app.seen) == 15
        app.close()
