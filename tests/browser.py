"""What the browser tests and ``scripts/web_screenshots.py`` share: a real
``vnimport serve`` in its own process over a sandbox on loopback, and
Debian's Chromium driven by Playwright, with axe-core (vendored in
``tests/vendor``) to check each page and a watch on the console for
content-security-policy violations.

Where Playwright or Chromium is missing the browser tests skip with a
one-line reason, except under ``CI=true``, where a missing browser fails
them: CI installs Chromium (``.ci/run``), so a skip there would hide a
regression.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.sandbox import DEMO_SECRET, Sandbox
from importer.sandbox.process import demo_connection

CHROMIUM = os.environ.get("VNIMPORT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's
# hosts, which a closed network refuses; --no-sandbox because CI runs as root.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).with_name("vendor") / "axe-4.14.1.min.js"
PASSWORD = "correct horse battery"
STARTUP_S = 60.0  # the longest a server may take to listen: a bound, not a speed


def missing_browser() -> str:
    """Why the browser tests cannot run here, or ``""``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return 'Playwright is not installed: pip install -e ".[test]"'
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium, or set VNIMPORT_CHROMIUM"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def target_toml(sb: Sandbox, name: str = "demo", kind: str = "test") -> str:
    conn = demo_connection(sb.url)
    return (
        f'[targets.{name}]\nbase_url = "{conn.base_url}"\ntoken_url = "{conn.token_url}"\n'
        f'client_id = "{conn.client_id}"\ntenant_id = "{conn.tenant_id}"\n'
        f'client_secret = "{DEMO_SECRET}"\njournal = "{name}.sqlite"\nkind = "{kind}"\n'
    )


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}


def cli(*argv: str, stdin: str = "", cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "importer", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Server:
    """``vnimport serve`` in a process of its own, as an operator starts it."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        return self.folder / "web-data"

    @property
    def config(self) -> Path:
        return self.folder / "vnimport.toml"

    def add_user(self, name: str, role: str = "own", targets: str = "demo") -> str:
        """The user's API token."""
        out = cli(
            "users", "add", name, "--password-stdin", "--role", role, "--targets", targets,
            "--data", str(self.data), stdin=PASSWORD + "\n",
            cwd=self.folder,
        )  # fmt: skip
        return out.strip().splitlines()[-1]

    def start(self) -> Server:
        log = (self.folder / "serve.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "importer",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data",
                str(self.data),
                "--config",
                str(self.config),
            ],
            stdout=log,
            stderr=log,
            env=_env(),
            cwd=self.folder,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"vnimport serve ended: {self.log()}")
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return self
            time.sleep(0.05)
        raise AssertionError(f"vnimport serve did not listen within {STARTUP_S} s: {self.log()}")

    def kill(self) -> None:
        """As a power cut or ``kill -9`` ends it: no clean-up runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        path = self.folder / "serve.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def served(folder: Path, sb: Sandbox, kind: str = "test") -> Iterator[Server]:
    folder.mkdir(parents=True, exist_ok=True)
    server = Server(folder)
    server.config.write_text(target_toml(sb, kind=kind), encoding="utf-8")
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class Console:
    """What a page printed to its console: a policy violation is a failure."""

    def __init__(self, page: Any) -> None:
        self.messages: list[str] = []
        page.on("console", lambda m: self.messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))

    def violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m or "pageerror" in m]


def new_page(browser: Any, locale: str = "en-GB") -> tuple[Any, Any, Console]:
    context = browser.new_context(accept_downloads=True, locale=locale)
    # axe is added through the DevTools protocol, which the page's policy
    # does not govern: the app itself still runs only its own scripts.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    return context, page, Console(page)


def serious_axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is."""
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return [f"{v['id']}: {v['help']} at {', '.join(v['nodes'][:5])}" for v in found]


def sign_in(page: Any, server: Server, name: str, button: str = "Sign in") -> None:
    page.goto(server.url + "/login")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(server.url + "/")


#: A batch with a problem of each kind the pages show: an empty name, a
#: credit limit that is no number, a currency Visma does not have.
EVERY_PAGE_BATCH: list[list[object]] = [
    ["Customer number", "Customer name", "Credit limit", "Currency"],
    ["50001", "Fjordkraft Regnskap AS", "10000", "NOK"],
    ["50002", "", "5000", "NOK"],
    ["50003", "Lysaker Bygg AS", "lots", "NOK"],
    ["50004", "Nordlys Consulting AS", "2500", "EUR"],
    ["50005", "Tromsø Fisk AS", "7500", "XXX"],
] + [[f"5{i:04d}", f"Kunde {i} AS", "1000", "NOK"] for i in range(10, 40)]


def walk_every_page(page: Any, server: Server, book: Path, visit: Callable[[str], None]) -> None:
    """Every page of the app, as an admin meets them in one batch's life:
    ``visit(name)`` is called on each (an axe check, a screenshot). The
    server's target is named demo."""
    page.goto(server.url + "/login")
    visit("01-sign-in")
    sign_in(page, server, "anna")
    visit("02-upload")
    page.get_by_label("File").set_input_files(str(book))
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/batches/**")
    check = page.url
    visit("03-check")
    page.get_by_role("button", name="Check against demo").click()
    page.wait_for_load_state("networkidle")
    visit("04-check-against-the-company")
    page.get_by_role("link", name="See the file: sheet and header row").click()
    visit("05-file")
    page.goto(check)
    page.get_by_role("link", name="Columns: the field each one maps to").click()
    visit("06-columns")
    page.goto(check)
    name = page.get_by_label("New value for Customer name, row 3")
    name.fill("Gjøvik Revisjon AS")
    page.locator("form.edit", has=name).get_by_role("button", name="Save").click()
    page.get_by_text("Edited in the page").wait_for()
    visit("07-check-after-an-edit")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/runs/**")
    # the progress bar once sending began, or the result when it was quicker
    finished = page.get_by_text("Finished with problems")
    page.locator("#progress progress").or_(finished).first.wait_for(timeout=120_000)
    visit("08-progress")
    page.get_by_text("Finished with problems").wait_for(timeout=300_000)
    run = page.url
    visit("09-result")
    page.get_by_role("button", name="Reconcile").first.click()
    page.get_by_role("heading").first.wait_for()
    page.get_by_text("Working:").wait_for(state="hidden", timeout=120_000)  # its outcome
    visit("10-reconcile")
    page.goto(run)
    page.get_by_role("button", name="Undo journal run").first.click()
    page.get_by_text("Working:").wait_for(state="hidden", timeout=120_000)
    visit("11-undo-dry-run")
    page.goto(server.url + "/runs")
    visit("12-runs")
    page.goto(server.url + "/journal")
    visit("13-journal")
    page.goto(server.url + "/admin/users")
    visit("14-users")
    page.goto(check)
    page.get_by_label("Language").select_option("nb")
    page.get_by_role("button", name="Change").click()
    page.locator("html[lang=nb]").wait_for(state="attached")
    visit("15-check-in-norwegian")
