"""What a sandbox is configured with: clients and tenants, limits, faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

DEMO_CLIENT = "demo"
DEMO_SECRET = "demo-secret"  # the sandbox's published demo credentials
DEMO_TENANT = "demo-company"
DEMO_CUSTOMER_TENANT = "demo-customer"  # a customer tenant: tokens work, API calls get 401

TenantKind = Literal["company", "customer"]


@dataclass(frozen=True)
class Client:
    """An API client: its secret and the tenants it may ask a token for.

    Visma has two kinds of tenant: the company's, which the ERP API serves,
    and the customer's, for which a token is issued but every API call is
    refused with 401 (the pitfall in visma-api-notes.md section 4.2)."""

    client_id: str
    secret: str
    tenants: dict[str, TenantKind]


@dataclass(frozen=True)
class Faults:
    """Seeded fault injection, so a run can be repeated. Shares are 0..1."""

    latency_ms: float = 0.0  # added to every API answer
    error_500: float = 0.0  # answered 500 before anything is done
    error_503: float = 0.0  # answered 503 before anything is done
    throttle_429: float = 0.0  # answered 429 (Retry-After: 1) before anything is done
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
    seed: int = 0

    @property
    def any(self) -> bool:
        return any(
            (
                self.latency_ms,
                self.error_500,
                self.error_503,
                self.throttle_429,
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
    rate_limit: int = 100_000  # calls per window, per client and tenant
    rate_window: float = 3600.0  # seconds (Visma: an hour)
    max_page_size: int = 100
    db: str = ":memory:"
    faults: Faults = field(default_factory=Faults)
    # The wall clock of the server's rate windows and token lifetimes (Visma's
    # windows are aligned on it); tests give their own.
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def client(self, client_id: str) -> Client | None:
        return next((c for c in self.clients if c.client_id == client_id), None)
