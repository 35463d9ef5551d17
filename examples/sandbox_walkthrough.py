"""A plain `requests` client against the sandbox, as an integrator writes one.

Start a sandbox (`vnimport sandbox`), then:

    python examples/sandbox_walkthrough.py [BASE_URL]

It authenticates, creates the customers and invoices that `vnimport preview`
produces from the bundled samples, reads one back, pages through the list,
updates a line and shows a Visma error.
"""

from __future__ import annotations

import json
import subprocess
import sys

import requests

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8750"

token = requests.post(
    f"{BASE}/connect/token",
    data={
        "grant_type": "client_credentials",
        "client_id": "demo",
        "client_secret": "demo-secret",
        "tenant_id": "demo-company",
        # what the walkthrough does: read, create and update (a token lacks the rest)
        "scope": " ".join(f"vismanet_erp_service_api:{s}" for s in ("read", "create", "update")),
    },
    timeout=10,
).json()
api = requests.Session()
api.headers["Authorization"] = f"Bearer {token['access_token']}"


def preview(sample: str, doctype: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "importer", "preview", sample, "--type", doctype],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


# The customers the sample invoices are for, then the invoices themselves.
invoices = preview("samples/customer_invoice.csv", "customer_invoice")
for number in sorted({r["body"]["customerNumber"]["value"] for r in invoices}):
    api.post(
        f"{BASE}/v1/customer",
        json={"number": {"value": number}, "name": {"value": f"Kunde {number}"}},
        timeout=10,
    )
numbers = []
for record in invoices:
    reply = api.request(record["method"], BASE + record["path"], json=record["body"], timeout=10)
    assert reply.status_code == 201, reply.text
    numbers.append(reply.headers["Location"].rsplit("/", 1)[-1])  # the new invoice number
print("created invoices", numbers)

invoice = api.get(f"{BASE}/v1/customerinvoice/{numbers[0]}", timeout=10).json()
print("read back:", invoice["referenceNumber"], invoice["customer"]["number"], invoice["status"])

page = api.get(
    f"{BASE}/v1/customerinvoice", params={"pageNumber": 1, "pageSize": 2}, timeout=10
).json()
print(
    "page 1 of",
    page[0]["metadata"]["totalCount"],
    "invoices:",
    [d["referenceNumber"] for d in page],
)

reply = api.put(
    f"{BASE}/v1/customerinvoice/{numbers[0]}",
    json={
        "invoiceLines": [
            {"operation": "Update", "lineNumber": {"value": 1}, "quantity": {"value": 3}}
        ]
    },
    timeout=10,
)
print("update a line:", reply.status_code)

reply = api.post(
    f"{BASE}/v2/customerinvoice", json={"customerNumber": {"value": "99999"}}, timeout=10
)
print("a Visma error:", reply.status_code, reply.json()["message"])
