from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

# A run that names no journal uses the user's own (~/.local/state/vnimport):
# the tests, and the vnimport processes they start, use one of their own.
os.environ["VNIMPORT_JOURNAL"] = os.path.join(
    tempfile.mkdtemp(prefix="vnimport-tests-"), "journal.sqlite"
)
# Nor the user's cache (a company's lists, kept between runs).
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="vnimport-tests-cache-")


from hostile import Server  # noqa: E402

from importer.demo import DEMO_TYPES  # noqa: E402
from importer.doctypes import Registry  # noqa: E402
from importer.sandbox import Sandbox  # noqa: E402


@pytest.fixture(autouse=True)
def _a_journal_per_test(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test its own default journal. The journal keys on the API's address
    and the company, and a sandbox started later may get the port an earlier
    one had: with one journal for the session, a test would find the earlier
    test's documents journalled as created there and send nothing."""
    before = {k: os.environ.get(k) for k in ("VNIMPORT_JOURNAL", "XDG_STATE_HOME")}
    state = tmp_path_factory.mktemp("state")
    os.environ["VNIMPORT_JOURNAL"] = str(state / "journal.sqlite")
    # a vnimport started with VNIMPORT_* taken out of its environment (env_for)
    # finds the default journal here, never in the user's ~/.local/state
    os.environ["XDG_STATE_HOME"] = str(state)
    yield
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# Every type the registry finds, so that a type added as files is tested without
# editing a test; in the demo's order (customers and suppliers first, then the
# documents that refer to them), which tests that create every sample rely on.
_FOUND = Registry().names()
TYPES = [n for n in DEMO_TYPES if n in _FOUND] + [n for n in _FOUND if n not in DEMO_TYPES]


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return ROOT / "samples"


def write_xlsx(path: Path, rows: list[list[object]], *, sheet: str = "Sheet1") -> Path:
    """A real workbook as Excel would save it: str cells are text cells
    (never formulas), numbers are numbers, dates are date cells."""
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = ws.cell(r, c, value)
            if isinstance(value, str):
                cell.data_type = "s"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    wb.save(path)
    return path


def write_csv(
    path: Path, rows: list[list[object]], *, delimiter: str = ";", encoding: str = "utf-8"
) -> Path:
    import csv

    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(
            [["" if v is None else v for v in row] for row in rows]
        )
    return path


@pytest.fixture
def evil() -> Iterator[Server]:
    """Another host (tests/hostile.py): it must never receive the secret or a document."""
    server = Server(lambda h, m, b: (200, {}, {"access_token": "stolen", "expires_in": 3600}))
    yield server
    server.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox on a free loopback port, with the default config."""
    with Sandbox() as sb:
        yield sb


def token_for(
    sb: Sandbox, client: str = "demo", secret: str = "demo-secret", tenant: str = "demo-company"
) -> str:
    reply = requests.post(
        sb.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": client,
            "client_secret": secret,
            "tenant_id": tenant,
            "scope": " ".join(
                f"vismanet_erp_service_api:{s}" for s in ("read", "create", "update")
            ),
        },
        timeout=10,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The address of a throwaway PostgreSQL cluster (see tests/postgres.py)."""
    from postgres import cluster, server_bin

    if server_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL's server programs are missing: .ci/run installs them")
        pytest.skip("PostgreSQL's server programs (Debian's postgresql package) are missing")
    with cluster() as url:
        yield url


VISMA_ERROR = r"^VismaId: [0-9a-f-]{36}\. "  # how Visma begins an error message


class Api:
    """A plain requests session with a bearer token, as an integrator writes it."""

    def __init__(self, sb: Sandbox, **token_args: str) -> None:
        self.sb = sb
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token_for(sb, **token_args)}"

    def __call__(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.sb.url + path, **kw)


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """An xlsx with these sheets, in order; "" is an empty cell, text stays text."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append([None if v == "" else v for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    wb.save(path)
    return path
