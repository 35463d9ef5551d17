"""Screenshots of each page of the web app for docs/web.md, made in the
same browser the tests drive (Debian's Chromium through Playwright) against
a real ``vnimport serve`` over the embedded sandbox.

    .venv/bin/python scripts/web_screenshots.py [--out docs/web]

It needs Chromium (``apt-get install chromium``) and the test extra. The
pages are shown with made-up data in a temporary folder; only the PNG
files are written to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium, missing_browser, new_page, served, sign_in  # noqa: E402
from conftest import write_xlsx  # noqa: E402

from importer.sandbox import Sandbox, SandboxConfig  # noqa: E402
from importer.sandbox.config import Faults  # noqa: E402

BATCH = [
    ["Customer number", "Customer name", "Credit limit", "Currency"],
    ["50001", "Fjordkraft Regnskap AS", "10000", "NOK"],
    ["50002", "", "5000", "NOK"],
    ["50003", "Lysaker Bygg AS", "lots", "NOK"],
    ["50004", "Nordlys Consulting AS", "2500", "EUR"],
    ["50005", "Tromsø Fisk AS", "7500", "XXX"],
] + [[f"5{i:04d}", f"Kunde {i} AS", "1000", "NOK"] for i in range(10, 40)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web")
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(f"web_screenshots: {reason}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    # a little latency, so the progress page is seen while the run goes on
    config = SandboxConfig(company="demo", faults=Faults(latency_ms=150))
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(config) as sb,
        served(Path(tmp) / "site", sb) as server,
        chromium() as browser,
    ):
        server.add_user("anna", role="admin")
        server.start()
        shots = Shots(browser, args.out)
        shots.walk(server, Path(tmp))
    for name in shots.taken:
        print(args.out / name)
    return 0


class Shots:
    def __init__(self, browser: Any, out: Path) -> None:
        self.context, self.page, _ = new_page(browser)
        self.page.set_viewport_size({"width": 1200, "height": 800})
        self.out = out
        self.taken: list[str] = []

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.out / f"{name}.png"), full_page=True)
        self.taken.append(f"{name}.png")

    def walk(self, server: Any, tmp: Path) -> None:
        page = self.page
        page.goto(server.url + "/login")
        self.shot("1-sign-in")
        sign_in(page, server, "anna")
        self.shot("2-upload")
        book = write_xlsx(tmp / "customers.xlsx", BATCH)
        page.get_by_label("File").set_input_files(str(book))
        page.get_by_role("button", name="Upload and check").click()
        page.wait_for_url("**/batches/**")
        self.shot("3-check")
        page.get_by_role("button", name="Import").click()
        page.wait_for_url("**/runs/**")
        self.shot("4-progress")
        page.get_by_text("Finished with problems").wait_for(timeout=300_000)
        self.shot("5-result")


if __name__ == "__main__":
    raise SystemExit(main())
