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

from browser import (  # noqa: E402
    EVERY_PAGE_BATCH,
    chromium,
    missing_browser,
    new_page,
    served,
    walk_every_page,
)
from conftest import write_xlsx  # noqa: E402

from importer.sandbox import Sandbox, SandboxConfig  # noqa: E402
from importer.sandbox.config import Faults  # noqa: E402


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
    config = SandboxConfig(company="demo", faults=Faults(latency_ms=500))
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(config) as sb,
        served(Path(tmp) / "site", sb) as server,
        chromium() as browser,
    ):
        server.add_user("anna", role="admin")
        server.start()
        shots = Shots(browser, args.out)
        book = write_xlsx(Path(tmp) / "customers.xlsx", EVERY_PAGE_BATCH)
        walk_every_page(shots.page, server, book, shots.shot)
    for name in shots.taken:
        print(args.out / name)
    return 0


class Shots:
    def __init__(self, browser: Any, out: Path) -> None:
        self.browser = browser
        self.context, self.page, _ = new_page(browser)
        self.page.set_viewport_size({"width": 1200, "height": 800})
        self.out = out
        self.taken: list[str] = []

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.out / f"{name}.png"), full_page=True)
        self.taken.append(f"{name}.png")


if __name__ == "__main__":
    raise SystemExit(main())
