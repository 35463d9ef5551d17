"""Taking a run's documents back out of Visma: ``vnimport undo RUN``.

The journal knows what a run did to each document (:meth:`Journal.run_documents`:
created or updated, Visma's number, the ETag Visma answered, the document as
it was before an update). :func:`undo_run` walks them newest first and takes
each back the way the API allows, as its type's ``x-undo`` says
(:mod:`importer.undo.rules`): a DELETE, a reverse (and the release of the
credit note it makes), a void, a customer or supplier set inactive, an update
put back from the copy the journal kept. What the API cannot take back is
listed with what to do in Visma by hand.

Nothing is touched that changed since the run: before each step the document
is read, and its ETag must be the one Visma gave the run (a document whose
ETag is not known is left alone too: when in doubt, do nothing). A document
paid since (its balance is not its amount) is left alone as well.

Each step is journaled before and after (:meth:`Journal.set_undo`): a step
that was under way when an undo was killed is looked at first by the next
(a document being deleted that is gone was deleted), and a document taken
back is not looked at again, so a second undo does nothing. A dry run reads
the documents and says what would be done, changing nothing. The token asks
for the delete scope (and create, update) only when a step needs it.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

import requests

from importer.codes import message
from importer.doctypes import DocType, Registry
from importer.errors import ConfigError, DocTypeError
from importer.register import find_run
from importer.settings import Connection
from importer.targets.client import MAX_WAIT, TIMEOUT, BadAnswer, OutcomeUnknown, VismaClient
from importer.targets.journal import LEASE, Journal, Run, RunDocument
from importer.targets.visma import UNRELEASED
from importer.undo.calls import Calls, Doc, StepFailed, Stop
from importer.undo.report import DONE, UndoReport, UndoResult
from importer.undo.restore import differences, restore_body
from importer.undo.rules import UndoRule, UndoRules, undo_rules

__all__ = ["UndoReport", "UndoResult", "undo_run"]

WAIT = 60.0  # seconds a step Visma does in the background (a void, a release) may take
POLL = 2.0  # seconds between looks at it
# The journal's undo_state: a final state (a DONE status, or "manual <code>"),
# a step under way ("deleting", "releasing <number>" ...), or "failed".
FINAL = (*DONE, "manual")
UNDER_WAY = {
    "delete": "deleting",
    "reverse": "reversing",
    "void": "voiding",
    "inactivate": "inactivating",
    "restore": "restoring",
}
DONE_AS = {
    "delete": "deleted",
    "reverse": "reversed",
    "void": "voided",
    "inactivate": "inactivated",
    "restore": "restored",
}


def undo_run(
    journal: Journal,
    run: str,
    connection: Connection,
    *,
    dry_run: bool = False,
    registry: Registry | None = None,
    client: VismaClient | None = None,
    timeout: float = TIMEOUT,
    max_wait: float = MAX_WAIT,
    wait: float = WAIT,
    poll: float = POLL,
    progress: Callable[[UndoResult], None] | None = None,
    stop: threading.Event | None = None,
) -> UndoReport:
    """Take the documents of ``run`` (its id, the start of one, or ``last``:
    the newest run against ``connection``'s company) back out of Visma,
    newest first; with ``dry_run``, only say what would be done (``journal``
    may then be read-only). ``progress`` is told each document's result as
    it comes; when ``stop`` is set no new document is started. The report
    has one result per document; ``report.fatal`` says why it stopped early.
    :class:`ConfigError` when the run is not known, was against another
    company, or is still running."""
    found = find_run(journal, run, target=connection.target, against="undo")
    if found.ended is None and found.host == socket.gethostname() and _alive(found.pid):
        raise ConfigError(
            f"run {found.id} is still running (process {found.pid}): let it finish, or stop "
            "it, before undoing it"
        )
    work = _Undo(
        journal, found, connection, registry or Registry(), dry_run=dry_run, client=client,
        timeout=timeout, max_wait=max_wait, wait=wait, poll=poll, stop=stop,
    )  # fmt: skip
    report = UndoReport(found, dry_run)
    documents = sorted(journal.run_documents(found.id), key=lambda d: d.seq, reverse=True)
    try:
        for n, doc in enumerate(documents):
            if work.stop.is_set():
                report.results += [work.not_undone(d) for d in documents[n:]]
                break
            try:
                result = work.one(doc)
            except Stop as stopped:
                report.fatal = (stopped.code, str(stopped))
                report.results += [work.not_undone(d) for d in documents[n:]]
                break
            report.results.append(result)
            if progress is not None:
                progress(result)
    finally:
        report.calls = work.visma.close()
    return report


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return pid > 0


class _Undo:
    def __init__(
        self,
        journal: Journal,
        run: Run,
        connection: Connection,
        registry: Registry,
        *,
        dry_run: bool,
        client: VismaClient | None,
        timeout: float,
        max_wait: float,
        wait: float,
        poll: float,
        stop: threading.Event | None,
    ) -> None:
        self.journal = journal
        self.run = run
        self.connection = connection
        self.registry = registry
        self.dry_run = dry_run
        self.timeout = timeout
        self.wait = wait
        self.stop = stop or threading.Event()
        self.visma = Calls(
            connection, client, timeout=timeout, max_wait=max_wait, wait=wait, poll=poll,
            stop=self.stop,
        )  # fmt: skip
        self.claim_id = f"undo-{uuid.uuid4().hex[:8]}-{run.id}"
        self._step = ""  # the verb of the step under way, for a failure's row

    # ------------------------------------------------------------ one document

    def not_undone(self, d: RunDocument) -> UndoResult:
        return self._result(d, "", "not undone", "", message("undo-stopped"))

    def one(self, d: RunDocument) -> UndoResult:
        state, detail = _state(d.undo_state)
        if state in FINAL:  # an earlier undo finished with it: nothing is done now
            action = "by hand" if state == "manual" else _verb(state)
            text = message("undo-earlier", message=d.undo_message)
            return self._result(d, action, state, detail, text, earlier=True)
        try:
            doctype = self.registry.get(d.doctype)
            rules = undo_rules(doctype.schema, doctype.schema_path)
        except DocTypeError:
            doctype, rules = None, None
        if d.status not in ("created", "updated"):
            if d.status in ("unknown", "sending"):
                by_hand = rules.by_hand if rules else ""
                return self._manual(d, "undo-unknown", "undo-unknown", by_hand=by_hand)
            text = message("undo-nothing", status=d.status)
            return self._result(d, "", "nothing to undo", "", text)
        if doctype is None or rules is None:
            return self._manual(d, "undo-by-hand", "undo-by-hand.type", doctype=d.doctype)
        if not d.number:  # created, and Visma's number never heard: nothing to look it up by
            return self._manual(d, "undo-unknown", "undo-unknown", by_hand=rules.by_hand)
        if not self.dry_run:
            claim = self.visma.guard(
                lambda: self.journal.claim(
                    self.run.target, d.doctype, d.key, self.claim_id, lease=self._lease()
                )
            )
            if claim.busy:
                text = message("in-progress", run=claim.busy)
                return self._result(d, "", "failed", "in-progress", text)
        self._step = _verb(state)
        try:
            return self._document(d, doctype, rules, state, detail)
        except StepFailed as failed:
            if not failed.keep and not self.dry_run:
                self.journal.set_undo(self.run.id, d.doctype, d.key, "failed", str(failed))
            return self._result(d, self._step, "failed", failed.code, str(failed))
        except OutcomeUnknown as exc:  # the step's state stays: the next undo looks first
            text = f"{exc}; run undo again: it looks at what became of it first"
            return self._result(d, self._step, "failed", "outcome-unknown", text)
        except BadAnswer as exc:
            text = message("bad-answer", detail=exc)
            return self._result(d, self._step, "failed", "bad-answer", text)
        finally:
            if not self.dry_run:
                self.journal.release(self.run.target, d.doctype, d.key, self.claim_id)

    def _lease(self) -> float:
        """A claim outlives the longest step (a read, a call, a wait, a release)."""
        return LEASE + 2 * self.wait + 6 * self.timeout

    def _document(
        self, d: RunDocument, doctype: DocType, rules: UndoRules, state: str, detail: str
    ) -> UndoResult:
        now = self.visma.read(doctype, d.number)
        if state in UNDER_WAY.values() or state == "releasing":
            resumed = self._resume(d, doctype, rules, state, detail, now)
            if resumed is not None:
                return resumed
        if now is None:
            if d.status == "created":
                return self._done(d, "", "nothing to undo", message("undo-gone"), "undo-gone")
            return self._manual(d, "undo-not-found", "undo-not-found", by_hand=rules.by_hand)
        if not d.etag or not now.etag:
            return self._manual(d, "undo-no-etag", "undo-no-etag", by_hand=rules.by_hand)
        if now.etag != d.etag:
            key = "undo-changed.release" if d.code == "release-pending" else "undo-changed"
            return self._manual(d, "undo-changed", key, by_hand=rules.by_hand)
        status = str(now.body.get(rules.status) or "")
        rule = rules.rule(d.status, status)
        if rule is None:
            return self._manual(
                d, "undo-by-hand", "undo-by-hand", status=status or "?", by_hand=rules.by_hand
            )
        if rule.unpaid and now.body.get(rule.unpaid[0]) != now.body.get(rule.unpaid[1]):
            balance, amount = (now.body.get(f) for f in rule.unpaid)
            return self._manual(
                d, "undo-paid", "undo-paid", balance=balance, amount=amount, by_hand=rules.by_hand
            )
        if rule.do == "none":
            text = message("undo-nothing.already", status=status)
            return self._done(d, "", "nothing to undo", text, "", undone=False)
        step: Callable[..., UndoResult] = getattr(self, f"_{rule.do}")
        return step(d, doctype, rules, rule, now)

    # ------------------------------------------------------------ the steps

    def _delete(
        self, d: RunDocument, doctype: DocType, rules: UndoRules, rule: UndoRule, now: Doc
    ) -> UndoResult:
        if self.dry_run:
            return self._would(d, "delete")
        reply = self._act(d, doctype, rule, now)
        if reply.status_code == 202:
            self.visma.follow(reply, "delete")
            if self.visma.read(doctype, d.number) is not None:
                raise StepFailed("undo-pending", self.visma.pending("delete"), keep=True)
        elif reply.status_code not in (200, 204, 404):  # 404: gone already
            raise self.visma.refused("delete", reply)
        return self._done(d, "delete", "deleted", message("undo-done.deleted"))

    def _inactivate(
        self, d: RunDocument, doctype: DocType, rules: UndoRules, rule: UndoRule, now: Doc
    ) -> UndoResult:
        title = doctype.title.lower()
        if self.dry_run:
            return self._would(d, "inactivate", title=title)
        reply = self._act(d, doctype, rule, now)
        if reply.status_code == 412:
            return self._manual(d, "undo-changed", "undo-changed", by_hand=rules.by_hand)
        if reply.status_code == 202:
            self.visma.follow(reply, "inactivate")
        elif reply.status_code not in (200, 204):
            raise self.visma.refused("inactivate", reply)
        text = message("undo-done.inactivated", title=title)
        return self._done(d, "inactivate", "inactivated", text)

    def _void(
        self, d: RunDocument, doctype: DocType, rules: UndoRules, rule: UndoRule, now: Doc
    ) -> UndoResult:
        if self.dry_run:
            return self._would(d, "void")
        reply = self._act(d, doctype, rule, now)
        if reply.status_code == 412:
            return self._manual(d, "undo-changed", "undo-changed", by_hand=rules.by_hand)
        if reply.status_code == 202:
            self.visma.follow(reply, "void")
        elif reply.status_code == 200:
            self.visma.action_result(reply, "void")
        else:
            raise self.visma.refused("void", reply)
        if rule.done:  # Visma voids in the background
            self.visma.until(
                doctype, d.number, lambda doc: _status(doc, rules) in rule.done, "void"
            )
        return self._done(d, "void", "voided", message("undo-done.voided"))

    def _reverse(
        self, d: RunDocument, doctype: DocType, rules: UndoRules, rule: UndoRule, now: Doc
    ) -> UndoResult:
        note_title = self._title(rule.note_type)
        if self.dry_run:
            return self._would(d, "reverse", note_title=note_title)
        reply = self._act(d, doctype, rule, now)
        if reply.status_code == 412:
            return self._manual(d, "undo-changed", "undo-changed", by_hand=rules.by_hand)
        if reply.status_code == 202:
            answer = self.visma.content(self.visma.follow(reply, "reverse"), "reverse")
        elif reply.status_code == 200:
            answer = self.visma.action_result(reply, "reverse")
        else:
            raise self.visma.refused("reverse", reply)
        note = next(
            (v for v in (_at(answer, p) for p in rule.note_number) if v and v != d.number), ""
        )
        if not note:  # reversed, Visma says, but not by which document
            return self._manual(d, "undo-in-doubt", "undo-in-doubt", note_title=note_title)
        self.journal.set_undo(self.run.id, d.doctype, d.key, f"releasing {note}", "")
        return self._release_note(d, rule, note)

    def _release_note(self, d: RunDocument, rule: UndoRule, note: str) -> UndoResult:
        """Release the document a reverse made: the reversal is done when it is."""
        note_type = self.registry.get(rule.note_type)
        note_title = note_type.title.lower()
        if self.dry_run:
            return self._would(d, "release", note_title=note_title, note=note)
        found = self.visma.read(note_type, note)
        if found is None:
            detail = "it is not in Visma"
            raise StepFailed("release-refused", self._note_failed(note_title, note, detail))
        if not _released(found.body):
            self.visma.allow({"create"})
            path = (
                self.visma.path(note_type.endpoint("get")[1], note, found.body) + "/action/release"
            )
            reply = self.visma.request("POST", path, json={}, safe=False)
            try:
                if reply.status_code == 202:
                    self.visma.follow(reply, "release")
                elif reply.status_code == 200:
                    self.visma.action_result(reply, "release")
                else:
                    raise self.visma.refused("release", reply)
            except StepFailed as failed:
                raise StepFailed(
                    "release-refused", self._note_failed(note_title, note, str(failed)), keep=True
                ) from None
            released = self.visma.until(
                note_type, note, lambda doc: doc is None or _released(doc), "release", keep=True
            )
            if released is not None and released.body.get("errorInfo"):
                detail = str(released.body["errorInfo"])
                raise StepFailed(
                    "release-refused", self._note_failed(note_title, note, detail), keep=True
                )
        text = message("undo-done.reversed", note_title=note_title, note=note)
        return self._done(d, "reverse", "reversed", text)

    def _restore(
        self, d: RunDocument, doctype: DocType, rules: UndoRules, rule: UndoRule, now: Doc
    ) -> UndoResult:
        before = d.pre_image
        if not isinstance(before, dict) or not isinstance(d.body, dict):
            return self._manual(d, "undo-no-copy", "undo-no-copy", by_hand=rules.by_hand)
        body, unseen = restore_body(
            d.body, before, now.body, number_field=doctype.schema.get("x-number", ""),
            lines=doctype.lines, line_number=doctype.line_number,
            read_line_number=doctype.read_line_number,
        )  # fmt: skip
        if self.dry_run:
            return self._would(d, "restore", fields=", ".join(body) or "nothing")
        self._step = "restore"
        self.journal.set_undo(self.run.id, d.doctype, d.key, "restoring", "")
        self.visma.allow({"update"})
        reply = self.visma.request(
            "PUT",
            self.visma.path(doctype.endpoint("update")[1], d.number, now.body),
            json=body,
            headers=self.visma.if_match(doctype, now),
            safe=not any(x.get("operation") == "Insert" for x in body.get(doctype.lines or "", [])),
        )
        if reply.status_code == 412:
            return self._manual(d, "undo-changed", "undo-changed", by_hand=rules.by_hand)
        if reply.status_code == 202:
            self.visma.follow(reply, "restore")
        elif reply.status_code not in (200, 204):
            raise self.visma.refused("restore", reply)
        after = self.visma.read(doctype, d.number)
        left = differences(before, after.body if after else {}, rules.volatile)
        if left:
            return self._manual(d, "undo-partial", "undo-partial", fields=", ".join(left))
        if unseen:
            text = message("undo-done.restored-unseen", fields=", ".join(unseen))
        else:
            text = message("undo-done.restored")
        return self._done(d, "restore", "restored", text)

    def _resume(
        self,
        d: RunDocument,
        doctype: DocType,
        rules: UndoRules,
        state: str,
        detail: str,
        now: Doc | None,
    ) -> UndoResult | None:
        """What became of a step an earlier undo started and did not record
        the end of; ``None``: it did not happen, the document is looked at anew."""
        rules_now = (*rules.created, *rules.updated)
        rule = next((r for r in rules_now if UNDER_WAY.get(r.do) == state), None)
        reverse = next((r for r in rules_now if r.do == "reverse"), None)
        if state == "releasing" and detail and reverse is not None:
            return self._release_note(d, reverse, detail)
        if state == "reversing":  # asked, and what Visma answered is not known
            note_title = self._title(reverse.note_type) if reverse else "credit note"
            return self._manual(d, "undo-in-doubt", "undo-in-doubt", note_title=note_title)
        if state == "deleting" and now is None:
            return self._done(d, "delete", "deleted", message("undo-done.deleted"))
        if now is None or rule is None:
            return None
        if state == "restoring" and isinstance(d.pre_image, dict):
            if not differences(d.pre_image, now.body, rules.volatile):
                return self._done(d, "restore", "restored", message("undo-done.restored"))
        elif state in ("voiding", "inactivating") and _status(now.body, rules) in rule.done:
            verb = "void" if state == "voiding" else "inactivate"
            title = doctype.title.lower()
            return self._done(
                d, verb, DONE_AS[verb], message(f"undo-done.{DONE_AS[verb]}", title=title)
            )
        return None

    # ------------------------------------------------------------ talking to Visma

    def _act(self, d: RunDocument, doctype: DocType, rule: UndoRule, now: Doc) -> requests.Response:
        """The rule's call, journaled as under way before it goes."""
        self._step = rule.do
        self.journal.set_undo(self.run.id, d.doctype, d.key, UNDER_WAY[rule.do], "")
        self.visma.allow(rule.scopes())
        return self.visma.request(
            rule.method,
            self.visma.path(rule.path, d.number, now.body),
            json=rule.body,
            headers=self.visma.if_match(doctype, now),
            safe=rule.method in ("DELETE", "PUT"),  # sent twice, they do it once
        )

    def _note_failed(self, note_title: str, note: str, detail: str) -> str:
        return message("undo-note-failed", note_title=note_title, note=note, detail=detail)

    def _title(self, name: str) -> str:
        try:
            return self.registry.get(name).title.lower()
        except DocTypeError:
            return name

    # ------------------------------------------------------------ results

    def _result(
        self,
        d: RunDocument,
        action: str,
        status: str,
        code: str,
        text: str,
        earlier: bool = False,
    ) -> UndoResult:
        return UndoResult(
            d.doctype, d.key, d.rows, d.number, d.status, action, status, code, text, earlier
        )

    def _would(self, d: RunDocument, step: str, **params: Any) -> UndoResult:
        verb = "reverse" if step == "release" else step
        return self._result(d, verb, f"would {verb}", "", message(f"undo-would.{step}", **params))

    def _done(
        self,
        d: RunDocument,
        action: str,
        status: str,
        text: str,
        code: str = "",
        undone: bool = True,
    ) -> UndoResult:
        """A document taken back: journaled, and its journal entry no longer
        says it is in Visma as the file had it (a new run sends it again)."""
        if not self.dry_run:
            self.journal.set_undo(self.run.id, d.doctype, d.key, status, text)
            if undone:
                self.journal.write(
                    self.run.target, d.doctype, d.key, hash="", state="undone", number=d.number,
                    message=f"{status} by vnimport undo of run {self.run.id}",
                )  # fmt: skip
        return self._result(d, action, status, code, text)

    def _manual(self, d: RunDocument, code: str, key: str, **params: Any) -> UndoResult:
        """A document left for a person, with what to do."""
        text = message(key, **params)
        if not self.dry_run:
            self.journal.set_undo(self.run.id, d.doctype, d.key, f"manual {code}", text)
        return self._result(d, "by hand", "manual", code, text)


def _state(text: str) -> tuple[str, str]:
    """A journal undo_state as (state, detail): ``manual undo-changed``,
    ``releasing 200001``, ``nothing to undo``."""
    if text in FINAL:
        return text, ""
    state, _, detail = text.partition(" ")
    return state, detail


def _verb(state: str) -> str:
    """The step a journal state names: ``deleting`` and ``deleted`` → delete."""
    for verb in UNDER_WAY:
        if state in (UNDER_WAY[verb], DONE_AS[verb]):
            return verb
    return "reverse" if state == "releasing" else ""


def _status(doc: dict[str, Any] | None, rules: UndoRules) -> str:
    return str((doc or {}).get(rules.status) or "")


def _released(doc: dict[str, Any]) -> bool:
    status = str(doc.get("status") or "")
    return bool(doc.get("errorInfo")) or (bool(status) and status not in UNRELEASED)


def _at(answer: dict[str, Any], path: str) -> str:
    """The text at a dotted path of an answer ("" when there is none)."""
    node: Any = answer
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return str(node) if isinstance(node, (str, int)) and node != "" else ""
