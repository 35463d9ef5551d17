"""Sending a prepared batch: each document exactly once, every row reported.

:func:`run_batch` runs a pool of workers over the valid documents of a
:class:`~importer.batch.Prepared` file; for each document the sender
decides, with the journal, whether it is new, unchanged, to be updated or
already in Visma, and the client of :mod:`importer.targets.client` does the talking.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any
from urllib.parse import quote

from importer.batch import Prepared, render_text, validation_report
from importer.errors import AuthError, ConfigError
from importer.group import Document
from importer.report import BatchReport
from importer.targets.client import Outcome, OutcomeUnknown, VismaClient, visma_message
from importer.targets.journal import DONE, Entry, Journal

MODES = ("create", "update", "upsert")
RELEASABLE = {"customer_invoice", "customer_credit_note", "customer_debit_note", "supplier_invoice"}
ETAG_TYPES = {"supplier", "supplier_invoice", "purchase_order"}


class _Sender:
    """Sends one document as the mode asks, consulting and writing the journal."""

    def __init__(
        self,
        prepared: Prepared,
        client: VismaClient,
        journal: Journal,
        *,
        mode: str,
        release: bool,
        check_existing: bool = False,
    ) -> None:
        self.prepared = prepared
        self.check_existing = check_existing
        self.doctype = prepared.doctype
        self.client = client
        self.journal = journal
        self.mode = mode
        self.release = release
        self.target = client.connection.target
        schema = self.doctype.schema
        self.number_field: str = schema.get("x-number", "")
        self.read_number: str = schema.get("x-read-number", self.number_field)
        self.finds: dict[str, Any] = schema.get("x-find", {})

    def path(self, number: str) -> str:
        return self.doctype.endpoint("get")[1].replace("{number}", quote(number, safe=""))

    def send(self, doc: Document) -> Outcome:
        text = render_text(self.prepared, doc)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        entry = self.journal.get(self.target, self.doctype.name, doc.key)
        if entry is not None and entry.state in DONE and entry.hash == digest:
            return Outcome("unchanged", entry.number, message="already in Visma as sent before")
        try:
            if self.mode == "create":
                return self._create(doc, text, digest, entry)
            known = entry is not None and entry.state in DONE and bool(entry.number)
            if not known and self._finder(doc) is None:
                title = self.doctype.fields[doc.key_field].title if doc.key_field else "key"
                return Outcome(
                    "failed",
                    message=f"cannot be found in Visma by its {title} "
                    "(it is not sent to Visma): update it with the journal of the "
                    "run that created it, or give it a number or a reference",
                )
            number = self._number(doc, entry)
            if number is None:
                if self.mode == "update":
                    return Outcome(
                        "failed",
                        message="not in Visma, so there is nothing to "
                        "update (--mode upsert creates it)",
                    )
                return self._create(doc, text, digest, entry)
            return self._update(doc, text, digest, number)
        except OutcomeUnknown as exc:
            return Outcome("failed", message=f"{exc}; check in Visma before importing again")

    # ------------------------------------------------------------ create

    def _create(self, doc: Document, text: str, digest: str, entry: Entry | None) -> Outcome:
        name = self.doctype.name
        if entry is not None and entry.state in DONE:
            return Outcome(
                "skipped",
                entry.number,
                message=f"already created as "
                f"{entry.number}; the file has changed since (--mode update sends "
                "the changes)",
            )
        find = self._finder(doc)
        if entry is not None and entry.state == "sending" and find is not None:
            number = find()  # an earlier run was stopped before it heard back
            if number is not None:
                self._remember(doc, digest, number, "created by an earlier, interrupted run")
                return Outcome("created", number, 201, "created by an earlier, interrupted run")
        if (
            entry is None
            and self.check_existing
            and find is not None
            and doc.key_field != self.number_field
        ):  # Visma refuses a number twice itself
            number = find()
            if number is not None:
                self._remember(doc, digest, number, "found in Visma by its reference")
                return Outcome(
                    "skipped",
                    number,
                    message=f"already in Visma as {number} "
                    "(found by its reference); not created again",
                )
        self.journal.write(self.target, name, doc.key, hash=digest, state="sending")
        outcome = self.client.create(self.doctype.endpoint("create")[1], json.loads(text), find)
        state = "created" if outcome.status == "created" else "failed"
        self.journal.write(
            self.target,
            name,
            doc.key,
            hash=digest,
            state=state,
            number=outcome.number,
            http_status=outcome.http_status,
            message=outcome.message,
        )
        if outcome.status == "created" and self.release and name in RELEASABLE:
            outcome.message = self._release(outcome.number)
        return outcome

    def _remember(self, doc: Document, digest: str, number: str, message: str) -> None:
        """A document found in Visma is journaled as created, once and for all."""
        self.journal.write(
            self.target,
            self.doctype.name,
            doc.key,
            hash=digest,
            state="created",
            number=number,
            message=message,
        )

    def _release(self, number: str) -> str:
        reply = self.client.call("POST", self.path(number) + "/action/release", json={}, safe=False)
        if reply.status_code != 200:
            return f"created; release refused: {reply.status_code} {visma_message(reply)}"
        status = self.client.call("GET", self.path(number)).json().get("status", "?")
        return f"released: status {status}"

    # ------------------------------------------------------------ lookup

    def _finder(self, doc: Document) -> Callable[[], str | None] | None:
        if doc.key_field and doc.key_field == self.number_field:
            return lambda: self._get_number(doc.key)
        spec = self.finds.get(doc.key_field)
        if spec is None:
            return None
        params = {param: doc.header.get(field) for param, field in spec["query"].items()}
        if any(v is None for v in params.values()):
            return None
        return lambda: self._search(params, spec["match"], doc.key)

    def _get_number(self, number: str) -> str | None:
        reply = self.client.call("GET", self.path(number))
        if reply.status_code == 404:
            return None
        if reply.status_code != 200:
            raise OutcomeUnknown(f"looking up {number}: {reply.status_code} {visma_message(reply)}")
        return number

    def _search(self, params: dict[str, Any], match: str, key: str) -> str | None:
        """Page through the list with the filters the spec has, and compare
        the reference ourselves (a filter Visma does not know filters nothing)."""
        list_path = self.doctype.endpoint("list")[1]
        page = 1
        while True:
            reply = self.client.call(
                "GET", list_path, params={**params, "pageNumber": page, "pageSize": LOOKUP_PAGE}
            )
            if reply.status_code != 200:
                raise OutcomeUnknown(
                    f"looking up {key}: {reply.status_code} {visma_message(reply)}"
                )
            records = reply.json()
            for record in records:
                if str(record.get(match)) == key:
                    return str(record.get(self.read_number))
            limit = (
                records[0].get("metadata", {}).get("maxPageSize", LOOKUP_PAGE)
                if records
                else LOOKUP_PAGE
            )
            if len(records) < min(LOOKUP_PAGE, limit):
                return None
            page += 1

    def _number(self, doc: Document, entry: Entry | None) -> str | None:
        if entry is not None and entry.state in DONE and entry.number:
            return entry.number
        find = self._finder(doc)
        return find() if find is not None else None

    # ------------------------------------------------------------ update

    def _update(self, doc: Document, text: str, digest: str, number: str) -> Outcome:
        current = self.client.call("GET", self.path(number))
        if current.status_code == 404:
            return Outcome("failed", number, 404, f"{number} is not in Visma")
        body = json.loads(text)
        if self.doctype.lines:
            lines = current.json().get(self.doctype.lines) or []
            _line_operations(body.get(self.doctype.lines) or [], lines)
        headers = {}
        if self.doctype.name in ETAG_TYPES and current.headers.get("ETag"):
            headers["If-Match"] = current.headers["ETag"]
        inserts = any(
            line.get("operation") == "Insert"
            for line in body.get(self.doctype.lines or "", []) or []
        )
        reply = self.client.call(
            "PUT", self.path(number), json=body, headers=headers, safe=not inserts
        )
        if reply.status_code == 204:
            self.journal.write(
                self.target,
                self.doctype.name,
                doc.key,
                hash=digest,
                state="updated",
                number=number,
                http_status=204,
            )
            return Outcome("updated", number, 204)
        if reply.status_code == 412:
            return Outcome(
                "failed",
                number,
                412,
                "changed in Visma since it was read; "
                "nothing was overwritten (run again to update the new version)",
            )
        return Outcome("failed", number, reply.status_code, visma_message(reply))


LOOKUP_PAGE = 100


def _line_operations(sent: list[dict[str, Any]], current: list[dict[str, Any]]) -> None:
    """Make the file's lines replace Visma's: the n-th line updates Visma's
    n-th, extra lines are inserted, Visma's extra lines deleted."""
    numbers = sorted(int(line.get("lineNumber", line.get("lineNbr", 0))) for line in current)
    explicit = {int(line["lineNumber"]["value"]) for line in sent if "lineNumber" in line}
    free = [n for n in numbers if n not in explicit]
    for line in sent:
        if "lineNumber" in line:
            wanted = int(line["lineNumber"]["value"])
            line["operation"] = "Update" if wanted in numbers else "Insert"
        elif free:
            line["lineNumber"] = {"value": free.pop(0)}
            line["operation"] = "Update"
        else:
            line["operation"] = "Insert"
    used = {int(line["lineNumber"]["value"]) for line in sent if "lineNumber" in line}
    sent.extend(
        {"operation": "Delete", "lineNumber": {"value": n}} for n in numbers if n not in used
    )


def run_batch(
    prepared: Prepared,
    client: VismaClient,
    journal: Journal,
    *,
    mode: str = "create",
    workers: int = 4,
    release: bool = False,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    check_existing: bool = False,
) -> BatchReport:
    """Send every valid document of ``prepared`` and report every row.

    Documents go out through ``workers`` threads; a Ctrl-C (or ``stop``) lets
    the requests in flight finish and reports the rest as not sent. A fatal
    error (Visma refusing the credentials) stops the run the same way and is
    raised after the report is made, as :class:`AuthError` with the report."""
    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}")
    stop = stop or threading.Event()
    sender = _Sender(
        prepared, client, journal, mode=mode, release=release, check_existing=check_existing
    )
    docs = [d for d in prepared.documents if d.valid]
    outcomes: dict[int, Outcome] = {}
    fatal: AuthError | None = None
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue = iter(docs)
        pending: dict[Future[Outcome], Document] = {}
        try:
            while True:
                while len(pending) < workers * 2 and not stop.is_set():
                    doc = next(queue, None)
                    if doc is None:
                        break
                    pending[pool.submit(sender.send, doc)] = doc
                if not pending:
                    break
                finished, _ = futures_wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    doc = pending.pop(future)
                    try:
                        outcomes[id(doc)] = future.result()
                    except AuthError as exc:
                        fatal = fatal or exc
                        stop.set()
                    done += 1
                    if progress is not None:
                        progress(done, len(docs))
        except KeyboardInterrupt:
            stop.set()
            for future, doc in pending.items():  # the requests in flight finish
                try:
                    outcomes[id(doc)] = future.result()
                except AuthError as exc:
                    fatal = fatal or exc
    report = _run_report(prepared, outcomes, stopped=stop.is_set(), fatal=fatal)
    sent = sum(1 for o in outcomes.values() if o.status not in ("unchanged", "skipped"))
    report.extra.update(
        {
            "mode": mode,
            "calls": client.calls,
            "calls_per_document": round(client.calls / sent, 3) if sent else 0.0,
            "target": client.connection.base_url,
        }
    )
    if fatal is not None:
        raise RunAborted(str(fatal), report)
    return report


class RunAborted(AuthError):
    """A fatal error stopped the run; ``report`` says what was done before."""

    def __init__(self, message: str, report: BatchReport) -> None:
        super().__init__(message)
        self.report = report


def _run_report(
    prepared: Prepared, outcomes: dict[int, Outcome], *, stopped: bool, fatal: AuthError | None
) -> BatchReport:
    report = validation_report(prepared)
    by_row = {}
    for doc in prepared.documents:
        outcome = outcomes.get(id(doc))
        for row in doc.rows:
            by_row[(row.sheet, row.number)] = outcome
    why_not = (
        "not sent: the run stopped after a fatal error"
        if fatal
        else "not sent: the run was interrupted"
    )
    for result in report.results:
        if result.status == "invalid":
            continue
        outcome = by_row.get((result.sheet, result.row))
        if outcome is None:
            result.status = "skipped"
            result.message = why_not if stopped else "not sent"
            continue
        result.status = outcome.status
        result.number = outcome.number
        result.http_status = outcome.http_status
        result.message = outcome.message
    return report
