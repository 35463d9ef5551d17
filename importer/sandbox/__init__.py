"""A Visma.net-compatible API server on loopback: the sandbox.

It keeps the contract of api.finance.visma.net (``reference/visma-api-notes.md``):
OAuth2 client credentials with a tenant and scopes, a demo company (customers,
suppliers, items, VAT codes, accounts, periods...) served on the spec's paths
and checked when a document refers to it, the seven document types on the
spec's paths, request bodies checked against the request DTOs, flat
read DTOs, paging and indexed list filters, Visma's quotas, the background
API, releases done in the background, attachments and ETags, with state in
SQLite, seeded fault injection (gateway error bodies, 403s, failing releases
among them) and limits on what a request may cost. The demo, the tests and
the benchmarks post to it; ``docs/sandbox.md`` lists every behaviour.

    with Sandbox() as sb:          # in-process, on a free port
        sb.url                     # http://127.0.0.1:<port>
        sb.token_url               # http://127.0.0.1:<port>/connect/token
        sb.calls("company-2")      # the API calls made to a tenant, with their jobs

``SandboxConfig(companies=N)`` gives the demo client the company tenants
``company-1`` ... ``company-N`` beside ``demo-company``.
"""

from importer.sandbox.config import (
    DEMO_CLIENT,
    DEMO_SECRET,
    DEMO_TENANT,
    JOB_HEADER,
    Faults,
    SandboxConfig,
    journal_beside,
)
from importer.sandbox.server import Call, Sandbox, overlap, serve

__all__ = [
    "DEMO_CLIENT",
    "DEMO_SECRET",
    "DEMO_TENANT",
    "JOB_HEADER",
    "Call",
    "Faults",
    "Sandbox",
    "SandboxConfig",
    "journal_beside",
    "overlap",
    "serve",
]
