"""The preview records of a checked batch, as values (what tests compare)."""

from __future__ import annotations

from typing import Any

from importer import Batch, BatchReport, Journal, VismaDestination, render_requests, send
from importer.targets.client import VismaClient


def preview_records(batch: Batch) -> list[dict[str, Any]]:
    return [request.record() for request in render_requests(batch)]


def send_with(
    batch: Batch,
    client: VismaClient,
    journal: Journal,
    *,
    mode: str = "create",
    workers: int = 4,
    release: bool = False,
    check_existing: bool = False,
    unknown_grace: float = 0.2,
) -> BatchReport:
    """``send`` to Visma.net through a given client and journal (a test's
    own client counts its calls, or meddles)."""
    destination = VismaDestination(
        client.connection,
        journal=journal,
        client=client,
        release=release,
        check_existing=check_existing,
        unknown_grace=unknown_grace,
    )
    return send(batch, destination, mode=mode, workers=workers)
