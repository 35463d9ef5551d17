"""What a sandbox is configured with: clients and tenants, quotas, limits, faults."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

DEMO_CLIENT = "demo"
DEMO_SECRET = "demo-secret"  # the sandbox's published demo credentials
DEMO_TENANT = "demo-company"
DEMO_CUSTOMER_TENANT = "demo-customer"  # a customer tenant: tokens work, API calls get 401
# With SandboxConfig.companies N, the demo client also has the company tenants
# company-1 ... company-N, each a company of its own.
COMPANY_PREFIX = "company-"
# The request header a client names the job that made a call with (the
# sandbox records it with the call; importer.targets.client sends it).
JOB_HEADER = "X-Vnimport-Job"
MAX_CALLS = 1_000_000  # the calls the sandbox keeps a record of (the newest)

TenantKind = Literal["company", "customer"]
Quota = Literal["test", "production"]
ResetFormat = Literal["seconds", "epoch", "date"]
ErrorBody = Literal["json", "html", "text", "empty"]
Company = Literal["demo", "empty", "large"]

# The ERP service API's scopes (visma-api-notes.md §4.2, §7): what a token may do.
SCOPE_PREFIX = "vismanet_erp_service_api:"
SCOPES = tuple(f"{SCOPE_PREFIX}{s}" for s in ("read", "create", "update", "delete"))

# Visma's published figures (visma-api-notes.md §4.5, §7): calls per hour per
# client and company, for a test client and for a production client.
QUOTAS: dict[str, tuple[int, float]] = {
    "test": (500, 3600.0),
    "production": (15_000, 3600.0),
}


@dataclass(frozen=True)
class Client:
    """An API client: its secret, the tenants it may ask a token for, and
    the scopes it is registered for.

    Visma has two kinds of tenant: the company's, which the ERP API serves,
    and the customer's, for which a token is issued but every API call is
    refused with 401 (the pitfall in visma-api-notes.md section 4.2)."""

    client_id: str
    secret: str
    tenants: dict[str, TenantKind]
    scopes: tuple[str, ...] = SCOPES


@dataclass(frozen=True)
class Faults:
    """Seeded fault injection, so a run can be repeated. Shares are 0..1."""

    latency_ms: float = 0.0  # added to every API answer
    error_500: float = 0.0  # answered 500 before anything is done
    error_503: float = 0.0  # answered 503 before anything is done
    throttle_429: float = 0.0  # answered 429 (Retry-After: 1) before anything is done
    gateway_502: float = 0.0  # answered 502 (a gateway's page) before anything is done
    drop_after_commit: float = 0.0  # creates stored, then the connection dropped unanswered
    slow: float = 0.0  # answered only after slow_seconds (the work is done first)
    slow_seconds: float = 5.0
    # creates left unanswered and committed late_commit_seconds later, as a
    # large document can be in Visma after the client has given up on it
    late_commit: float = 0.0
    late_commit_seconds: float = 40.0
    # a create whose body holds this text is answered 500 every time, as
    # Visma answers some bad data (empty: never)
    error_500_on: str = ""
    # a document whose stored body holds this text fails its background
    # release: errorInfo set, status unchanged (empty: never)
    release_fail_on: str = ""
    # any API call whose path or body holds this text is answered 403, nothing
    # done (empty: never)
    forbid_on: str = ""
    # the body of the injected 500, 502, 503 and 429 answers: Visma's JSON, or
    # what a gateway in front of it gives (an HTML page, plain text, nothing)
    error_body: ErrorBody = "json"
    # X-RateLimit-Reset as seconds to the reset (Visma's docs), as the epoch
    # time of the reset, or as an HTTP date; Retry-After is seconds, or an
    # HTTP date with "date"
    reset_format: ResetFormat = "seconds"
    seed: int = 0

    @property
    def any(self) -> bool:
        """Whether any fault drawn per call is on (the others are checked where they apply)."""
        return any(
            (
                self.latency_ms,
                self.error_500,
                self.error_503,
                self.throttle_429,
                self.gateway_502,
                self.drop_after_commit,
                self.slow,
                self.late_commit,
                self.error_500_on,
            )
        )


@dataclass(frozen=True)
class SandboxConfig:
    clients: tuple[Client, ...] = (
        Client(
            DEMO_CLIENT, DEMO_SECRET, {DEMO_TENANT: "company", DEMO_CUSTOMER_TENANT: "customer"}
        ),
    )
    token_lifetime: float = 3600.0  # seconds
    # Calls per window, per client and tenant (each company its own window):
    # the quota's figures unless rate_limit / rate_window say otherwise
    # (benchmarks scale a quota down).
    quota: Quota = "production"
    rate_limit: int | None = None
    rate_window: float | None = None
    max_page_size: int = 100
    db: str = ":memory:"
    # What the company tenants (DEMO_TENANT, and company-1 ... with
    # companies) start with, each its own copy: "demo", the demo
    # company of importer/sandbox/company.py (customers, suppliers, items, VAT
    # codes, accounts, subaccounts, branches, currencies, credit terms,
    # projects, financial periods), "empty", nothing, or "large", the demo
    # company with 5,000 customers and 2,000 items (company.LARGE_CUSTOMERS,
    # LARGE_ITEMS), for benchmarks. Only a new state is given one: a kept
    # state (db) keeps the company it has.
    company: Company = "demo"
    # Refuse a document that refers to an item, VAT code, account, subaccount,
    # currency, credit terms, branch, project or VAT zone the company does not
    # have, or that posts to a closed financial period (400, as Visma). A list
    # the company does not have is never checked, so an empty company checks
    # only customers and suppliers, as before.
    check_references: bool = True
    # How long after its 200 "Queued" (or 202) a release is done in the background.
    release_seconds: float = 1.0
    # The largest request body taken (413 above it, declared or not), on the
    # API and on the token endpoint.
    max_body: int = 16 * 1024 * 1024
    # A connection idle this long is closed; a request (request line, headers
    # and body) must arrive whole within this long of its first byte.
    connection_timeout: float = 30.0
    # JSON bodies nested deeper are refused with 400.
    max_json_depth: int = 64
    faults: Faults = field(default_factory=Faults)
    # More companies for the demo client: company-1 ... company-N beside
    # demo-company, each given ``company`` as its start, with its own
    # documents, reference data and rate-limit window (several jobs, each
    # into a company of its own).
    companies: int = 0
    # The newest API calls kept in the call record (Sandbox.calls(),
    # GET /sandbox/calls); older ones are dropped.
    max_calls: int = MAX_CALLS
    # The wall clock of the server's rate windows and token lifetimes (Visma's
    # windows are aligned on it); tests give their own.
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.companies < 0:
            raise ValueError(f"companies is 0 or more, not {self.companies}")
        if self.max_calls < 1:
            raise ValueError(f"max_calls is 1 or more, not {self.max_calls}")

    @property
    def company_tenants(self) -> tuple[str, ...]:
        """The demo client's extra company tenants: company-1 ... company-N."""
        return tuple(f"{COMPANY_PREFIX}{i}" for i in range(1, self.companies + 1))

    @property
    def seeded_tenants(self) -> tuple[str, ...]:
        """The tenants given ``company`` as their start: demo-company and the extra ones."""
        return (DEMO_TENANT, *self.company_tenants)

    def client(self, client_id: str) -> Client | None:
        """The client, the demo client with the extra company tenants."""
        found = next((c for c in self.clients if c.client_id == client_id), None)
        if found is not None and found.client_id == DEMO_CLIENT and self.companies:
            extra: dict[str, TenantKind] = dict.fromkeys(self.company_tenants, "company")
            found = replace(found, tenants={**found.tenants, **extra})
        return found

    @property
    def limits(self) -> tuple[int, float]:
        """(calls, seconds) of a rate window: the quota's, or rate_limit / rate_window."""
        calls, window = QUOTAS[self.quota]
        return (
            self.rate_limit if self.rate_limit is not None else calls,
            self.rate_window if self.rate_window is not None else window,
        )


def journal_beside(db: str | os.PathLike[str]) -> Path:
    """The journal to keep beside a kept sandbox's state file, so that a
    kept sandbox is never met by a fresh journal (which would create again
    what the sandbox has) nor a fresh sandbox by a kept journal (which would
    skip what it lacks): ``sb.db`` -> ``sb.journal.sqlite`` in the same
    folder. Delete, copy or move the two together. ValueError for an
    in-memory state (``:memory:`` or empty), which keeps nothing."""
    text = os.fspath(db)
    if text in ("", ":memory:"):
        raise ValueError("an in-memory sandbox keeps nothing: its journal is in memory too")
    path = Path(text)
    return path.with_name(f"{path.stem if path.suffix else path.name}.journal.sqlite")
