"""The Visma.net destination: each document exactly once, every row reported.

:class:`VismaDestination` delivers a batch's requests to one company: for
each document the sender decides, with the journal, whether it is new,
unchanged, to be updated or already in Visma, and the client of
:mod:`importer.targets.client` does the talking. Per-type facts (the
release action, If-Match, the line number field) come from the type's
schema (``x-release``, ``x-etag``, ``x-line-number``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from importer.codes import http_code, message
from importer.doctypes import DocType
from importer.errors import AuthError, VismaError
from importer.group import Document, natural_fields, natural_key, row_ranges
from importer.render import Request
from importer.report import BatchReport
from importer.settings import Connection
from importer.targets import Event, Progress, body_hash
from importer.targets.client import (
    MAX_WAIT,
    TIMEOUT,
    BadAnswer,
    Outcome,
    OutcomeUnknown,
    RateLimited,
    VismaClient,
    clock_time,
    json_of,
    scopes,
)
from importer.targets.journal import DONE, LEASE, Entry, Journal, open_journal

if TYPE_CHECKING:
    from importer.batch import Batch


UNKNOWN_GRACE = 300.0  # a large create can take minutes to commit in Visma
RELEASE_WAIT = 60.0  # seconds a release may stay queued before the run goes on
RELEASE_POLL = 2.0  # seconds between looks at a queued release
UNRELEASED = ("Hold", "Balanced")  # a document's status until it is released


class VismaDestination:
    """One Visma.net company, with the journal of what was sent there.

    ``journal`` is a :class:`Journal` (left open) or a path (opened here and
    closed at the end). ``release`` releases each created document of a type
    that can be released. ``check_existing`` looks a document the journal
    does not know up in Visma by its reference before creating it.
    ``existing`` is what a preflight found in Visma already ({key: number},
    :func:`find_existing`): the run takes it instead of looking again."""

    def __init__(
        self,
        connection: Connection,
        *,
        journal: Journal | str | Path,
        release: bool = False,
        check_existing: bool = False,
        workers: int = 4,
        client: VismaClient | None = None,
        resend_unknown: bool = False,
        lease: float = LEASE,
        unknown_grace: float = UNKNOWN_GRACE,
        timeout: float = TIMEOUT,
        max_wait: float = MAX_WAIT,
        release_wait: float = RELEASE_WAIT,
        release_poll: float = RELEASE_POLL,
        existing: Mapping[str, str] | None = None,
        by: str = "",
    ) -> None:
        self.connection = connection
        self.by = by  # who the journal says ran it; empty: this process's user
        self.existing = existing  # found in Visma before the run (importer.company_checks)
        self.timeout = timeout  # seconds: each request's total deadline
        self.max_wait = max_wait  # seconds: the longest wait Visma may ask for
        self.release_wait = release_wait  # seconds a release may stay queued
        self.release_poll = release_poll
        self.resend_unknown = resend_unknown
        self.unknown_grace = unknown_grace  # seconds before an unanswered create is looked up
        self.lease = lease  # seconds a claim lives unrenewed; renewed every third of it
        self.run_id = ""
        self._renewing: threading.Event | None = None
        self._journal_arg = journal
        self.journal: Journal | None = journal if isinstance(journal, Journal) else None
        self.release = release
        self.check_existing = check_existing
        self.workers = workers
        self.client = client
        self._own_client = client is None
        self._sender: _Sender | None = None
        self._notify: Progress = lambda event: None

    def describe(self) -> str:
        return f"{self.connection.base_url} (tenant {self.connection.tenant_id})"

    def open(self, batch: Batch, mode: str, notify: Progress) -> None:
        if self.journal is None:
            self.journal = open_journal(self._journal_arg)  # type: ignore[arg-type]
        if self.client is None:
            needs = {"read", "create" if mode == "create" else "update"}
            if mode == "upsert" or self.release:
                needs.add("create")
            self.client = VismaClient(
                self.connection,
                workers=self.workers,
                timeout=self.timeout,
                max_wait=self.max_wait,
                scope=self.connection.scope or scopes(*needs),
            )

        def waiting(seconds: float) -> None:
            notify(Event("waiting", -1, -1, seconds))

        self._notify = notify

        self.client.on_wait = waiting
        self.run_id = self.journal.start_run(
            file=batch.source,
            sha256=file_sha256(batch.table.path),
            doctype=batch.doctype.name,
            mode=mode,
            target=self.connection.target,
            user=self.by,
        )
        self._renewing = _keep_renewing(self.journal, self.run_id, self.lease)
        self._sender = _Sender(
            batch.doctype,
            self.client,
            self.journal,
            mode=mode,
            release=self.release,
            check_existing=self.check_existing,
            run_id=self.run_id,
            lease=self.lease,
            resend_unknown=self.resend_unknown,
            release_wait=self.release_wait,
            release_poll=self.release_poll,
        )
        if mode == "create" and self.existing is not None:
            self._sender.in_visma.update(self.existing)  # looked up by the preflight
        elif mode == "create":
            try:
                self._sender.prefetch(batch.valid_documents)
            except (OutcomeUnknown, BadAnswer) as exc:  # when in doubt, do not send
                raise VismaError(
                    f"{exc}; nothing was sent, as what is in Visma already is not known: "
                    "run again when Visma answers"
                ) from None
        per_document = {"create": 1, "update": 2, "upsert": 3}[mode]
        if self.release and batch.doctype.releasable:
            per_document += 3  # the release, a look at it, the status
        calls = len(batch.valid_documents) * per_document
        took = self.client.limiter.time_for(calls)
        notify(Event("estimate", 0, calls, -1.0 if took is None else took))

    def deliver(self, request: Request) -> Outcome:
        assert self._sender is not None, "open() first"
        return self._sender.send(request.document, request.text)

    def settle(self, stop: threading.Event) -> list[tuple[Document, Outcome]]:
        """The creates that got no clear answer, resolved at the end of the run."""
        if self._sender is None or not self._sender.deferred:
            return []
        if not stop.is_set():
            self._notify(Event("settling", len(self._sender.deferred), -1, self.unknown_grace))
        return self._sender.settle(stop, self.unknown_grace)

    def close(self, report: BatchReport) -> None:
        if self._renewing is not None:
            self._renewing.set()
            self._renewing = None
        if self.journal is not None and self.run_id:
            report.extra["run"] = self.run_id
            with suppress(Exception):  # a lost journal: the report says what happened
                self._note_unsent(report)
            outcome = (
                report.fatal[0]
                if report.fatal
                else ("stopped" if report.extra.get("stopped") else "done")
            )
            with suppress(Exception):  # a lost journal: the report says what happened
                self.journal.end_run(self.run_id, report.counts(), outcome)
        client = self.client
        if client is not None:
            sent = len(
                {
                    r.key
                    for r in report.results
                    if r.status not in ("unchanged", "skipped", "invalid")
                }
            )
            lookups = self._sender.lookup_calls if self._sender is not None else 0
            report.extra["lookup_calls"] = lookups
            if self._sender is not None and self._sender.update_reads:
                report.extra["update_reads"] = self._sender.update_reads
            report.extra.update(
                {
                    "calls": client.calls,
                    "calls_per_document": round((client.calls - lookups) / sent, 3)
                    if sent
                    else 0.0,
                    "target": self.connection.base_url,
                }
            )
            client.on_wait = None
            if self._own_client:
                client.session.close()
                self.client = None
        if self.journal is not None and not isinstance(self._journal_arg, Journal):
            self.journal.close()
            self.journal = None

    def _note_unsent(self, report: BatchReport) -> None:
        """The documents the run never came to (invalid, held back), in its
        register too, so that it lists every document of the file."""
        assert self.journal is not None
        noted = self._sender.noted if self._sender is not None else set()
        rows: dict[str, list[int]] = {}
        status: dict[str, tuple[str, str, str]] = {}
        for r in report.results:
            if r.key and r.key not in noted:
                rows.setdefault(r.key, []).append(r.row)
                if r.key not in status or r.status == "invalid":
                    record = r.as_record()
                    status[r.key] = (r.status, str(record["codes"]), str(record["message"]))
        for key, numbers in rows.items():
            state, code, text = status[key]
            self.journal.note(
                self.run_id, self.connection.target, report.doctype, key,
                status=state, rows=row_ranges(numbers), code=code, message=text,
            )  # fmt: skip


@dataclass
class _Deferred:
    """A create that got no clear answer, waiting to be looked up."""

    doc: Document
    text: str
    digest: str
    outcome: Outcome
    since: float


class _Sender:
    """Sends one document as the mode asks, consulting and writing the journal."""

    def __init__(
        self,
        doctype: DocType,
        client: VismaClient,
        journal: Journal,
        *,
        mode: str,
        release: bool,
        check_existing: bool = False,
        run_id: str = "",
        lease: float = LEASE,
        resend_unknown: bool = False,
        release_wait: float = RELEASE_WAIT,
        release_poll: float = RELEASE_POLL,
    ) -> None:
        self.check_existing = check_existing
        self.release_wait = release_wait
        self.release_poll = release_poll
        self.update_reads = 0  # GETs before updates (the lines, the ETag, the undo)
        self.limited: RateLimited | None = None  # Visma asked for too long a wait
        self.run_id = run_id
        self.deferred: dict[str, _Deferred] = {}
        self.in_visma: dict[str, str] = {}  # key -> number, found before the run sent anything
        self.noted: set[str] = set()  # the documents in the run's register
        self.lookup_calls = 0
        self.released_etags: dict[str, str] = {}  # number -> ETag, seen released
        self._deferred_lock = threading.Lock()
        self.clock = time.monotonic
        self.lease = lease
        self.resend_unknown = resend_unknown
        self.doctype = doctype
        self.client = client
        self.journal = journal
        self.mode = mode
        self.release = release
        self.target = client.connection.target
        schema = self.doctype.schema
        self.number_field: str = schema.get("x-number", "")
        self.read_number: str = schema.get("x-read-number", self.number_field)
        self.finds: dict[str, Any] = schema.get("x-find", {})
        longest = schema.get("properties", {}).get(self.number_field, {}).get("maxLength", 40)
        # what a number of this type can look like, to check the Location of a create
        self.number_pattern = re.compile(rf"\w[\w .\-]{{0,{max(int(longest), 1) - 1}}}")

    def path(self, number: str) -> str:
        return self.doctype.endpoint("get")[1].replace("{number}", quote(number, safe=""))

    def send(self, doc: Document, text: str) -> Outcome:
        if self.limited is not None:
            outcome = self._not_sent(self.limited)
        else:
            try:
                outcome = self._send(doc, text)
            except RateLimited as limited:
                self.limited = limited
                outcome = self._not_sent(limited)
        self.note(doc, outcome)
        return outcome

    def note(
        self, doc: Document, outcome: Outcome, body: Any = None, pre_image: Any = None
    ) -> None:
        """Record in the run's register what became of ``doc``."""
        self.noted.add(doc.key)
        self.journal.note(
            self.run_id, self.target, self.doctype.name, doc.key,
            status=outcome.status, rows=row_ranges(doc.row_numbers), number=outcome.number,
            code=outcome.code, message=outcome.message, body=body, etag=outcome.etag,
            pre_image=pre_image,
        )  # fmt: skip

    def _not_sent(self, limited: RateLimited) -> Outcome:
        return Outcome(
            "not sent",
            code="rate-limited",
            message=message("rate-limited", until=clock_time(limited.until)),
        )

    def _send(self, doc: Document, text: str) -> Outcome:
        if doc.key_field == self.number_field and doc.key.strip() in ("", ".", ".."):
            # quoted, "." and ".." would still be path segments: /v1/customer/.. is the list
            return Outcome(
                "failed", code="bad-number", message=message("bad-number", number=doc.key)
            )
        digest = body_hash(text)
        name = self.doctype.name
        entry = self.journal.get(self.target, name, doc.key)
        if entry is not None and entry.state in DONE and entry.hash == digest:
            return Outcome("unchanged", entry.number, message=message("unchanged"))
        # From here the document is this run's alone, or another's to finish.
        claim = self.journal.claim(self.target, name, doc.key, self.run_id, lease=self.lease)
        if claim.busy:
            return Outcome(
                "skipped",
                entry.number if entry else "",
                code="in-progress",
                message=message("in-progress", run=claim.busy),
            )
        try:
            return self._decide(doc, text, digest, claim.entry)
        finally:
            if doc.key not in self.deferred:  # a deferred one stays claimed until settled
                self.journal.release(self.target, name, doc.key, self.run_id)

    def _decide(self, doc: Document, text: str, digest: str, entry: Entry | None) -> Outcome:
        if entry is not None and entry.state in DONE and entry.hash == digest:
            return Outcome("unchanged", entry.number, message=message("unchanged"))
        try:
            if self.mode == "create":
                return self._create(doc, text, digest, entry)
            known = entry is not None and entry.state in DONE and bool(entry.number)
            if not known and self._finder(doc) is None:
                title = self.doctype.fields[doc.key_field].title if doc.key_field else "key"
                return Outcome(
                    "failed",
                    code="no-reference",
                    message=f"cannot be found in Visma by its {title} "
                    "(it is not sent to Visma): update it with the journal of the "
                    "run that created it, or give it a number or a reference",
                )
            number = self._number(doc, entry)
            if number is None:
                if self.mode == "update":
                    return Outcome(
                        "failed",
                        code="not-found",
                        message="not in Visma, so there is nothing to "
                        "update (--mode upsert creates it)",
                    )
                return self._create(doc, text, digest, entry)
            return self._update(doc, text, digest, number)
        except OutcomeUnknown as exc:
            return Outcome(
                "unknown",
                code="outcome-unknown",
                message=f"{exc}; check in Visma before importing again",
            )
        except Refused as refused:
            return refused.outcome
        except BadAnswer as exc:
            return Outcome("failed", code="bad-answer", message=message("bad-answer", detail=exc))

    # ------------------------------------------------------------ create

    def _create(self, doc: Document, text: str, digest: str, entry: Entry | None) -> Outcome:
        if entry is not None and entry.state in DONE:
            return Outcome(
                "skipped",
                entry.number,
                code="already-created",
                message=message("already-created", number=entry.number),
            )
        find = self._finder(doc)
        if entry is not None and entry.state == "sending":
            if find is not None:
                number = find()  # an earlier run was stopped before it heard back
                if number is not None:
                    self._remember(doc, digest, number, "created by an earlier, interrupted run")
                    return Outcome("created", number, 201, "created by an earlier, interrupted run")
            elif not self.resend_unknown:  # sent once, no answer, nothing to look it up by
                return Outcome("unknown", code="outcome-unknown", message=message("unknown-kept"))
        if entry is None and doc.key in self.in_visma:  # found by the lookup before the run
            number = self.in_visma[doc.key]
            self._remember(doc, digest, number, message("exists", number=number))
            return Outcome("exists in Visma", number, message=message("exists", number=number))
        if (
            entry is None
            and self.check_existing
            and find is not None
            and doc.key_field != self.number_field
        ):  # Visma refuses a number twice itself
            number = find()
            if number is not None:
                self._remember(doc, digest, number, message("exists", number=number))
                return Outcome("exists in Visma", number, message=message("exists", number=number))
        outcome = self._post(doc, text, digest)
        if outcome.status == "unknown":
            # Visma may have it, or may commit it later: looked up at the end
            # of the run, after a grace period, and sent again only if absent.
            with self._deferred_lock:
                self.deferred[doc.key] = _Deferred(doc, text, digest, outcome, self.clock())
            return replace(outcome, message=message("unknown-deferred", detail=outcome.message))
        return outcome

    def _post(self, doc: Document, text: str, digest: str) -> Outcome:
        """One POST of a create, journaled before and after."""
        self._record(doc.key, hash=digest, state="sending", run_id=self.run_id)
        self.note(doc, Outcome("sending"), body=json.loads(text))
        try:
            outcome = self.client.create(
                self.doctype.endpoint("create")[1], json.loads(text), self.number_pattern
            )
        except RateLimited as limited:  # answered 429: Visma did nothing with it
            self._record(
                doc.key,
                hash=digest,
                state="failed",
                message=message("rate-limited", until=clock_time(limited.until)),
                run_id=self.run_id,
            )
            raise
        # An unknown outcome stays "sending": it is looked up before any resend.
        state = {"created": "created", "unknown": "sending"}.get(outcome.status, "failed")
        self._record(
            doc.key,
            hash=digest,
            state=state,
            number=outcome.number,
            http_status=outcome.http_status,
            message=outcome.message,
            run_id=self.run_id,
        )
        if (
            outcome.status == "created"
            and doc.key_field == self.number_field
            and outcome.number not in ("", doc.key)
        ):  # the file gave the number, and Visma's number series gave another
            outcome.code = "number-assigned"
            outcome.message = message("number-assigned", number=outcome.number, wanted=doc.key)
        if outcome.status == "created" and self.release and self.doctype.releasable:
            try:
                outcome.message, outcome.code = self._release(outcome.number)
                # the document's ETag as released: what an undo compares with
                outcome.etag = self.released_etags.pop(outcome.number, outcome.etag)
            except (OutcomeUnknown, BadAnswer, Refused, AuthError, RateLimited) as exc:
                # created all the same: what became of the release is not known
                if isinstance(exc, RateLimited):
                    self.limited = exc
                outcome.code = "release-pending"
                outcome.message = message("release-unknown", number=outcome.number, detail=exc)
        return outcome

    def settle(self, stop: threading.Event, grace: float) -> list[tuple[Document, Outcome]]:
        """The deferred creates, each ``grace`` seconds after it went
        unanswered: looked up, and sent a second (last) time only when
        absent; with nothing to look it up by, or when the run is stopped,
        it stays ``unknown`` (its journal entry ``sending``: the next run
        looks it up first)."""
        settled = []
        for item in sorted(self.deferred.values(), key=lambda d: d.since):
            outcome = item.outcome
            wait = item.since + grace - self.clock()
            if stop.wait(max(wait, 0.0)):
                still = self._still_unknown(item)
                self.note(item.doc, still)
                settled.append((item.doc, still))
                continue
            try:
                outcome = self._resolve(item)
            except (OutcomeUnknown, BadAnswer, Refused, RateLimited) as exc:
                outcome = Outcome(
                    "unknown", code="outcome-unknown", message=message("unknown-lookup", detail=exc)
                )
            finally:
                self.journal.release(self.target, self.doctype.name, item.doc.key, self.run_id)
            self.note(item.doc, outcome)
            settled.append((item.doc, outcome))
        self.deferred.clear()
        return settled

    def _resolve(self, item: _Deferred) -> Outcome:
        find = self._finder(item.doc)
        if find is None:
            return self._still_unknown(item)
        number = find()
        if number is not None:
            self._remember(item.doc, item.digest, number, "created (found by a lookup)")
            return Outcome("created", number, 201, message("created-late", number=number))
        again = self._post(item.doc, item.text, item.digest)  # the second and last POST
        first = item.outcome
        if (
            again.status == "unknown"
            and again.http_status == first.http_status == 500
            and _without_ids(again.message) == _without_ids(first.message)
        ):  # the same 500 twice: Visma refuses the data
            self._record(
                item.doc.key, hash=item.digest, state="failed", http_status=500,
                message=again.message,
            )  # fmt: skip
            return Outcome(
                "failed", "", 500, message("refused-500", detail=again.message), "http-5xx"
            )
        if again.status == "unknown":
            again.message = message("unknown-twice", detail=again.message)
        return again

    def _still_unknown(self, item: _Deferred) -> Outcome:
        return Outcome(
            "unknown",
            code="outcome-unknown",
            http_status=item.outcome.http_status,
            message=message(
                "unknown-kept" if self._finder(item.doc) is None else "unknown-stopped"
            ),
        )

    def _record(self, key: str, **fields: Any) -> None:
        """Write what happened to the document ``key`` into the journal."""
        self.journal.write(self.target, self.doctype.name, key, **fields)

    def _remember(self, doc: Document, digest: str, number: str, message: str) -> None:
        """A document found in Visma is journaled as created, once and for all."""
        self._record(
            doc.key,
            hash=digest,
            state="created",
            number=number,
            message=message,
        )

    def _release(self, number: str) -> tuple[str, str]:
        """Release a created document: (what to say, its code). Visma
        releases in the background: the action answers 200 with
        ``actionResult`` Queued, InProcess, Failed or Done (some types 202
        and a state to follow), so the document is looked at until it is
        released, fails, or ``release_wait`` has passed."""
        action = self.path(number) + "/action/release"
        reply = self.client.call("POST", action, json={}, safe=False)
        if reply.status_code == 202:
            state = json_of(reply, dict, f"the release of {number}").get("stateLocation")
            return self._follow(number, str(state or ""))
        if reply.status_code != 200:
            return message(
                "release-refused", number=number, detail=self.client.explain(reply)
            ), "release-refused"
        result = json_of(reply, dict, f"the release of {number}")
        if result.get("actionResult") == "Failed":
            detail = result.get("errorInfo") or "Visma gave no reason"
            return message("release-refused", number=number, detail=detail), "release-refused"
        return self._watch_release(number)

    def _watch_release(self, number: str) -> tuple[str, str]:
        """Look at the document until its status says it is released, its
        ``errorInfo`` says the release failed, or the wait is over."""
        waited = 0.0
        while True:
            reply = self.client.call("GET", self.path(number))
            if reply.status_code != 200:
                raise Refused(self._refusal(reply, number, "reading the released document"))
            doc = json_of(reply, dict, f"reading {number}")
            status = str(doc.get("status") or "")
            if status and status not in UNRELEASED:
                self.released_etags[number] = reply.headers.get("ETag", "")
                return message("released", number=number, status=status), ""
            if doc.get("errorInfo"):
                return message(
                    "release-refused", number=number, detail=doc["errorInfo"]
                ), "release-refused"
            if waited >= self.release_wait:
                return message(
                    "release-pending", number=number, seconds=f"{self.release_wait:g}",
                    status=status or "?",
                ), "release-pending"  # fmt: skip
            time.sleep(self.release_poll)
            waited += self.release_poll

    def _follow(self, number: str, state: str) -> tuple[str, str]:
        """A release Visma took as a background request (202): its state is
        followed until it finishes, then the document is looked at."""
        waited = 0.0
        while state:
            reply = self.client.call("GET", state)
            if reply.status_code != 200:
                break  # the state is gone (410 after a day): the document says
            progress = json_of(reply, dict, f"the state of the release of {number}")
            if progress.get("status") == "Failed":
                detail = progress.get("errorMessage") or "Visma gave no reason"
                return message("release-refused", number=number, detail=detail), "release-refused"
            if progress.get("status") == "Finished" or waited >= self.release_wait:
                break
            time.sleep(self.release_poll)
            waited += self.release_poll
        return self._watch_release(number)

    def _refusal(self, reply: Any, number: str, doing: str) -> Outcome:
        """A read that Visma refused, as the document's failure."""
        return Outcome(
            "failed",
            number,
            reply.status_code,
            f"{doing}: {reply.status_code} {self.client.explain(reply)}",
            http_code(reply.status_code),
        )

    # ------------------------------------------------------------ lookup

    def _natural(self, doc: Document) -> tuple[str, ...]:
        """The natural key that names ``doc`` in Visma: its key's, or, for a
        customer or supplier keyed on its Legacy ID (which Visma never
        sees), the first natural key its header fills (``()``: none)."""
        fields = natural_fields(doc.key_field)
        if fields or doc.key_field == self.number_field:
            return fields
        found = natural_key(self.doctype, doc.header)
        return natural_fields(found[0]) if found else ()

    def _finder(self, doc: Document) -> Callable[[], str | None] | None:
        if doc.key_field and doc.key_field == self.number_field:
            return lambda: self._get_number(doc.key)
        fields = self._natural(doc)
        if fields:  # a customer or supplier without its number: found by what names it
            query = dict(self.doctype.natural_keys)[fields]
            wanted = _natural_values(doc.header, fields)
            return lambda: self._search_natural({query: doc.header.get(query)}, fields, wanted)
        spec = self.finds.get(doc.key_field)
        carry = self.doctype.carry_key
        if spec is None and carry and doc.header.get(carry) == doc.key:
            spec = self.finds.get(carry)  # the key the request carries (x-carry-key)
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
        if reply.status_code == 403:
            raise Refused(self._refusal(reply, "", f"looking up {number}"))
        if reply.status_code != 200:
            raise OutcomeUnknown(
                f"looking up {number}: {reply.status_code} {self.client.explain(reply)}"
            )
        return number

    def _search(self, params: dict[str, Any], match: str, key: str) -> str | None:
        """Page through the list with the filters the spec has, and compare
        the reference ourselves (a filter Visma does not know filters nothing)."""
        for record in self._pages(params, key):
            if str(record.get(match)) == key:
                return str(record.get(self.read_number))
        return None

    def _search_natural(
        self, params: dict[str, Any], fields: tuple[str, ...], wanted: tuple[str, ...]
    ) -> str | None:
        for record in self._pages(params, " and ".join(wanted)):
            if _natural_values(record, fields) == wanted:
                return str(record.get(self.read_number))
        return None

    def _pages(self, params: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
        """Every record of the type's list with ``params``, page by page."""
        list_path = self.doctype.endpoint("list")[1]
        page = 1
        while True:
            reply = self.client.call(
                "GET", list_path, params={**params, "pageNumber": page, "pageSize": LOOKUP_PAGE}
            )
            self.lookup_calls += 1
            if reply.status_code == 403:
                raise Refused(self._refusal(reply, "", f"looking up {what}"))
            if reply.status_code != 200:
                raise OutcomeUnknown(
                    f"looking up {what}: {reply.status_code} {self.client.explain(reply)}"
                )
            records = json_of(reply, list, f"looking up {what}")
            if not all(isinstance(record, dict) for record in records):
                raise BadAnswer(f"Visma's answer to looking up {what} is not a list of records")
            yield from records
            limit = _page_limit(records[0].get("metadata")) if records else LOOKUP_PAGE
            if len(records) < min(LOOKUP_PAGE, limit):
                return
            page += 1

    def prefetch(self, documents: list[Document]) -> None:
        """Before anything is created: the documents the journal does not
        know, looked up in Visma in one paged pass over the type's list
        (``x-bulk-find``), so that a run on a lost or new journal finds what
        is there instead of creating it again. Found ones are remembered in
        :attr:`in_visma`; the calls are counted in :attr:`lookup_calls`."""
        bulk = self.doctype.schema.get("x-bulk-find")
        if bulk is None:
            return
        wanted: dict[str, dict[str, Document]] = {}  # match field -> key -> document
        natural: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {}  # fields -> values -> key
        dates = []
        for doc in documents:
            fields = self._natural(doc)
            match = self._match_field(doc)
            if (match is None and not fields) or self.journal.get(
                self.target, self.doctype.name, doc.key
            ):
                continue
            if fields:
                natural.setdefault(fields, {})[_natural_values(doc.header, fields)] = doc.key
            else:
                wanted.setdefault(str(match), {})[doc.key] = doc
            if bulk:
                dates.append(str(doc.header.get(bulk["field"]) or ""))
        if not wanted and not natural:
            return
        params: dict[str, Any] = {}
        if bulk and all(dates):  # narrowed to the batch's dates (on or after the first)
            params = {bulk["param"]: min(dates), f"{bulk['param']}Condition": ">="}
        for record in self._pages(params, f"the {self.doctype.title.lower()}s already in Visma"):
            for match, docs in wanted.items():
                value = record.get(match)
                if value is not None and str(value) in docs:
                    self.in_visma[str(value)] = str(record.get(self.read_number))
            for fields, keys in natural.items():
                key = keys.get(_natural_values(record, fields))
                if key is not None:
                    self.in_visma[key] = str(record.get(self.read_number))

    def _match_field(self, doc: Document) -> str | None:
        """The field of Visma's records that holds the document's key."""
        if doc.key_field and doc.key_field == self.number_field:
            return self.read_number
        spec = self.finds.get(doc.key_field)
        carry = self.doctype.carry_key
        if spec is None and carry and doc.header.get(carry) == doc.key:
            spec = self.finds.get(carry)
        return str(spec["match"]) if spec is not None else None

    def _number(self, doc: Document, entry: Entry | None) -> str | None:
        if entry is not None and entry.state in DONE and entry.number:
            return entry.number
        find = self._finder(doc)
        return find() if find is not None else None

    # ------------------------------------------------------------ update

    def _update(self, doc: Document, text: str, digest: str, number: str) -> Outcome:
        current = self.client.call("GET", self.path(number))
        self.update_reads += 1
        if current.status_code == 404:
            return Outcome("failed", number, 404, f"{number} is not in Visma", "not-found")
        if current.status_code != 200:
            return self._refusal(current, number, f"reading {number} before the update")
        before = json_of(current, dict, f"reading {number}")
        self.journal.keep_pre_image(self.target, self.doctype.name, doc.key, before)
        body = json.loads(text)
        self.note(
            doc,
            Outcome("sending", number, etag=current.headers.get("ETag", "")),
            body=body,
            pre_image=before,
        )
        if self.doctype.lines:
            lines = before.get(self.doctype.lines) or []
            if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
                raise BadAnswer(f"the {self.doctype.lines} of {number} in Visma are not a list")
            _line_operations(
                body.get(self.doctype.lines) or [],
                lines,
                self.doctype.line_number,
                self.doctype.read_line_number,
            )
        headers = {}
        if self.doctype.etag and current.headers.get("ETag"):
            headers["If-Match"] = current.headers["ETag"]
        inserts = any(
            line.get("operation") == "Insert"
            for line in body.get(self.doctype.lines or "", []) or []
        )
        reply = self.client.call(
            "PUT", self.path(number), json=body, headers=headers, safe=not inserts
        )
        if reply.status_code == 204:
            self._record(
                doc.key,
                hash=digest,
                state="updated",
                number=number,
                http_status=204,
            )
            return Outcome("updated", number, 204, etag=reply.headers.get("ETag", ""))
        if reply.status_code == 412:
            return Outcome(
                "failed",
                number,
                412,
                "changed in Visma since it was read; "
                "nothing was overwritten (run again to update the new version)",
                "http-412",
            )
        return Outcome(
            "failed",
            number,
            reply.status_code,
            self.client.explain(reply),
            http_code(reply.status_code),
        )


LOOKUP_PAGE = 100


class Refused(Exception):
    """Visma refused a call a document depends on (a 403 on a lookup or a
    read): that document fails with Visma's words; nothing of it was sent."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def _page_limit(metadata: Any) -> int:
    """The page size Visma says it keeps to (``metadata.maxPageSize``)."""
    try:
        return int(metadata.get("maxPageSize", LOOKUP_PAGE))
    except (AttributeError, TypeError, ValueError):
        return LOOKUP_PAGE


def _line_operations(
    sent: list[dict[str, Any]], current: list[dict[str, Any]], field: str, read_field: str
) -> None:
    """Make the file's lines replace Visma's: the n-th line updates Visma's
    n-th, extra lines are inserted, Visma's extra lines deleted. ``field``
    is the line number in a request (``x-line-number``), ``read_field`` in
    what Visma gives back (``x-read-line-number``)."""
    numbers = sorted(int(line.get(read_field, 0)) for line in current)
    explicit = {int(line[field]["value"]) for line in sent if field in line}
    free = [n for n in numbers if n not in explicit]
    for line in sent:
        if field in line:
            wanted = int(line[field]["value"])
            line["operation"] = "Update" if wanted in numbers else "Insert"
        elif free:
            line[field] = {"value": free.pop(0)}
            line["operation"] = "Update"
        else:
            line["operation"] = "Insert"
    used = {int(line[field]["value"]) for line in sent if field in line}
    sent.extend({"operation": "Delete", field: {"value": n}} for n in numbers if n not in used)


def find_existing(
    client: VismaClient,
    doctype: DocType,
    documents: list[Document],
    *,
    journal: Journal | None = None,
) -> tuple[dict[str, str], int]:
    """The documents already in Visma, found as a run in create mode finds
    them before it creates anything (``x-bulk-find``: one paged pass over
    the type's list): ``{key: Visma's number}``, and the calls it took.
    Documents ``journal`` knows are left out (a run decides on them by the
    journal); without one, every document is looked up. Raises
    :class:`OutcomeUnknown`, :class:`BadAnswer` or :class:`Refused` when
    Visma does not answer."""
    own = journal is None
    used = Journal(":memory:") if journal is None else journal
    try:
        sender = _Sender(doctype, client, used, mode="create", release=False)
        sender.prefetch(documents)
    finally:
        if own:
            used.close()
    return dict(sender.in_visma), sender.lookup_calls


def file_sha256(path: Path) -> str:
    """The input file's SHA-256, for the journal's record of the run."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _keep_renewing(journal: Journal, run_id: str, lease: float) -> threading.Event:
    """Renew the run's claims every third of their lease until the event is set."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease / 3):
            try:
                journal.renew(run_id, lease=lease)
            except Exception:  # a lost journal: the next claim says so
                return

    threading.Thread(target=renew, name="vnimport-lease", daemon=True).start()
    return stop


_VISMA_ID = re.compile(r"VismaId:\s*[0-9A-Fa-f-]+\.?\s*")


def _without_ids(text: str) -> str:
    """Visma's words without the id it gives every error (``VismaId: ...``),
    so that two answers to the same request compare."""
    return _VISMA_ID.sub("", text).strip()


def _natural_values(values: Any, fields: tuple[str, ...]) -> tuple[str, ...]:
    """The values of a natural key's fields, from a row's header values
    (``mainAddress.postalCode`` as a key) or from a record of Visma's (as a
    path), compared as Visma would: without regard to case or outer spaces."""
    found = []
    for name in fields:
        value = values.get(name)
        if value is None and "." in name:
            value = values
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
        found.append("" if value is None else str(value).strip().casefold())
    return tuple(found)
