"""Reconcile a run: what the file stated against what Visma has.

:func:`reconcile` takes a run the journal remembers and reads back the
documents it created or updated: one paged pass over the type's list,
narrowed to the run (modified since a day before the run started, and, where
the type's list takes a date, ``x-bulk-find``, dated on or after the run's
earliest document), stopping once every document is found. A document is
read alone (GET) only where the list's copy differs from the file or lacks
what is compared (its lines, a field the list leaves out), or the list did
not have it: the calls grow with the list's pages, not with the documents.

What the file stated is the request body the run sent (the journal keeps
it). Compared, within 0.01 for numbers:

- every header field the body sends, under its name in what Visma gives
  back: text without regard to case or outer spaces, dates by the day,
  periods ``MMYYYY`` and ``YYYYMM`` alike; lists (subaccount segments,
  attributes, tax details) are not compared;
- the number of lines, and each line's quantity, price and amount (the
  amount the body sends, else quantity x price less the discount, as the
  type's ``x-control`` declares it); a value the body leaves to Visma (an
  item's own price) is not judged;
- the document's total excluding VAT.

Amounts Visma works out itself (VAT, rounding, the total with VAT) are
shown, not judged. Then the totals per customer or supplier and per
currency, file against Visma (within 0.01 per document), with the party's
balance from Visma's balance endpoints beside it, shown: it holds the
party's documents of other runs too.

A type's facts are its schema's ``x-reconcile``, read by
:mod:`importer.reconciliation.facts`, which also says how values compare.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from importer.checks import line_sum
from importer.doctypes import DocType
from importer.errors import ConfigError, VismaError
from importer.reconciliation.facts import (
    TOLERANCE,
    Facts,
    Party,
    as_decimal,
    at_path,
    code_of,
    day_of,
    header_leaves,
    name_of,
    same,
    unwrap,
)
from importer.register import find_run
from importer.targets.client import BadAnswer, VismaClient, json_of
from importer.targets.journal import DONE, Journal, Run, RunDocument

PAGE = 100  # records asked for per list page (Visma may keep to fewer: metadata says)
ONE_BY_ONE = 10  # parties up to this many: each balance read alone, else the paged list
RECENT = 24 * 3600.0  # seconds before the run's start that the list is read from


# ------------------------------------------------------------- the result


@dataclass(frozen=True)
class Difference:
    """One thing Visma has otherwise than the file: ``field`` is a header
    field's request path, ``lines``, ``line N quantity`` (price, amount),
    ``total`` or ``document``; ``note`` says more when a value is missing."""

    key: str
    rows: str
    number: str
    field: str
    file: Any
    visma: Any
    note: str = ""

    def describe(self) -> str:
        """``ORD-1 [100001] line 1 quantity: file 12, Visma 99``."""
        note = f" ({self.note})" if self.note else ""
        return (
            f"{self.key} [{self.number or '-'}] {self.field}: file {_text(self.file)}, "
            f"Visma {_text(self.visma)}{note}"
        )


def _text(value: Any) -> str:
    """A value as a person reads it: 99, not 99.0; 2274, not 2274.00."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = as_decimal(value)
        if number is not None:
            text = format(number.normalize(), "f")
            return text if "." not in text else text.rstrip("0").rstrip(".")
    return "-" if value is None else str(value)


@dataclass
class DocumentCheck:
    """One document of the run, as read back."""

    key: str
    rows: str
    number: str
    status: str  # what the run did: created, updated
    found: bool = False
    read: str = ""  # how it was read: "list", "alone", "" (not found)
    visma_status: str = ""
    party: str = ""
    party_name: str = ""
    currency: str = ""
    lines_file: int = 0
    lines_visma: int | None = None
    total_file: Decimal | None = None  # None: the file leaves an amount to Visma
    total_visma: Decimal | None = None
    shown: dict[str, Any] = field(default_factory=dict)  # what Visma works out itself
    differences: list[Difference] = field(default_factory=list)


@dataclass
class Totals:
    """A customer's, supplier's or currency's total, file against Visma."""

    name: str
    title: str = ""  # the party's name in Visma
    documents: int = 0
    unjudged: int = 0  # documents without a total in the file
    file: Decimal = Decimal(0)
    visma: Decimal = Decimal(0)
    shown: dict[str, Any] = field(default_factory=dict)  # the balance endpoint's figures
    note: str = ""

    @property
    def differs(self) -> bool:
        judged = self.documents - self.unjudged
        return abs(self.file - self.visma) > TOLERANCE * max(judged, 1)


@dataclass
class Calls:
    """The read calls a reconciliation made."""

    list_pages: int = 0
    documents: int = 0  # documents read alone
    balances: int = 0

    @property
    def total(self) -> int:
        return self.list_pages + self.documents + self.balances

    def describe(self) -> str:
        return (
            f"{self.total} read call(s): {self.list_pages} list page(s), "
            f"{self.documents} document(s) read alone, {self.balances} balance call(s)"
        )


@dataclass
class Reconciliation:
    """What :func:`reconcile` found: every document read back, the totals
    per party and per currency, the run's documents not read back (failed,
    unchanged ...), and the read calls it took."""

    run: Run
    doctype: str
    title: str  # the type's title: "Customer invoice"
    documents: list[DocumentCheck]
    parties: list[Totals]
    currencies: list[Totals]
    party_title: str = ""  # "Customer", "Supplier"; "" for a type without one
    has_lines: bool = False  # the type's documents have lines
    not_read: dict[str, int] = field(default_factory=dict)  # the run's other documents
    calls: Calls = field(default_factory=Calls)
    seconds: float = 0.0
    shown_fields: tuple[str, ...] = ()
    balance_fields: tuple[str, ...] = ()

    @property
    def differences(self) -> list[Difference]:
        return [d for doc in self.documents for d in doc.differences]

    @property
    def ok(self) -> bool:
        return not self.differences and not any(
            t.differs for t in [*self.parties, *self.currencies]
        )

    @property
    def exit_code(self) -> int:
        """0 Visma has what the file states, 1 something differs."""
        return 0 if self.ok else 1

    def verdict(self) -> str:
        if self.ok and not self.documents:
            return "nothing to compare: the run created or updated no document"
        if self.ok:
            return "clean: Visma has what the file states"
        differing = [d for d in self.documents if d.differences]
        missing = sum(1 for d in self.documents if not d.found)
        text = f"differs: {len(differing)} of {len(self.documents)} document(s)"
        if missing:
            text += f" ({missing} not in Visma)"
        parties = [t.name or "(not known)" for t in self.parties if t.differs]
        currencies = [t.name or "(not known)" for t in self.currencies if t.differs]
        if parties:
            text += f"; the totals of {(self.party_title or 'party').lower()} {', '.join(parties)}"
        if currencies:
            text += f"; the totals in {', '.join(currencies)}"
        return text

    def summary(self) -> dict[str, Any]:
        """The figures of the summary sheet, JSON-able."""
        known = [d for d in self.documents if d.total_file is not None]
        return {
            "run": self.run.id,
            "type": self.doctype,
            "file": self.run.file,
            "target": self.run.target,
            "verdict": self.verdict(),
            "ok": self.ok,
            "exit_code": self.exit_code,
            "documents": len(self.documents),
            "documents_differing": sum(1 for d in self.documents if d.differences),
            "documents_not_in_visma": sum(1 for d in self.documents if not d.found),
            "differences": len(self.differences),
            "not_read": dict(self.not_read),
            "lines_file": sum(d.lines_file for d in self.documents),
            "lines_visma": sum(d.lines_visma or 0 for d in self.documents),
            "total_file": float(sum((d.total_file or Decimal(0) for d in known), Decimal(0))),
            "total_visma": float(sum((d.total_visma or Decimal(0) for d in known), Decimal(0))),
            "calls": {
                "total": self.calls.total,
                "list_pages": self.calls.list_pages,
                "documents": self.calls.documents,
                "balances": self.calls.balances,
            },
            "seconds": round(self.seconds, 3),
        }


# ------------------------------------------------------------- reconciling


def reconcile(
    journal: Journal,
    run: Run | str,
    client: VismaClient,
    doctype: DocType | None = None,
) -> Reconciliation:
    """Read back what ``run`` (a :class:`Run`, or as
    :func:`importer.register.find_run` takes
    it) created or updated, through ``client``, and compare it with what the
    file stated. ``doctype`` is the run's type (loaded by name when not
    given). Raises :class:`ConfigError` for a run of another company,
    :class:`VismaError` when Visma does not answer a list or a read, and
    what the client raises (``AuthError``, ``RateLimited``)."""
    started = time.monotonic()
    target = client.connection.target
    if isinstance(run, str):
        run = find_run(journal, run, target=target, against="reconcile")
    elif run.target != target:
        raise ConfigError(f"run {run.id} was made against {run.target}, not {target}")
    if doctype is None:
        from importer.doctypes import load_type

        doctype = load_type(run.doctype)
    facts = Facts.of(doctype)
    documents = journal.run_documents(run.id)
    wanted = [d for d in documents if d.status in DONE]
    reader = _Reader(client, doctype, facts)
    listed = reader.listed(wanted, run.started)
    checks = [reader.check(d, listed.get(d.number)) for d in wanted]
    parties = reader.party_totals(checks)
    result = Reconciliation(
        run=run,
        doctype=doctype.name,
        title=doctype.title,
        documents=checks,
        parties=parties,
        currencies=_currency_totals(checks),
        party_title=facts.party.title if facts.party else "",
        has_lines=doctype.lines is not None,
        not_read=dict(Counter(d.status for d in documents if d.status not in DONE)),
        calls=reader.calls,
        shown_fields=facts.shown,
        balance_fields=facts.party.shown if facts.party else (),
    )
    result.seconds = time.monotonic() - started
    return result


class _Reader:
    """Reads a type's documents and balances back, counting the calls."""

    def __init__(self, client: VismaClient, doctype: DocType, facts: Facts) -> None:
        self.client = client
        self.doctype = doctype
        self.facts = facts
        self.calls = Calls()
        self.read_number = str(doctype.schema.get("x-read-number") or "")
        self.read_number = self.read_number or str(doctype.schema.get("x-number", "number"))
        self.names: dict[str, str] = {}  # party -> its name in Visma

    # ---------------------------------------------------------- reading

    def listed(self, wanted: list[RunDocument], started: float) -> dict[str, dict[str, Any]]:
        """The run's documents in one paged pass over the list, narrowed to
        the run, until every one is found: number -> record."""
        numbers = {d.number for d in wanted if d.number}
        if not numbers:
            return {}
        since = datetime.fromtimestamp(started - RECENT, UTC).strftime("%Y-%m-%d %H:%M:%S")
        params: dict[str, Any] = {
            **self.facts.list_params,
            "lastModifiedDateTime": since,
            "lastModifiedDateTimeCondition": ">=",
        }
        bulk = self.doctype.schema.get("x-bulk-find") or {}
        if bulk.get("param"):
            dates = [day_of(unwrap((d.body or {}).get(bulk["field"]))) for d in wanted]
            if dates and all(dates):
                params[bulk["param"]] = min(d for d in dates if d)
                params[f"{bulk['param']}Condition"] = ">="
        found: dict[str, dict[str, Any]] = {}
        path = self.doctype.endpoint("list")[1]
        for page in _pages(self.client, path, params, f"the {self.doctype.title.lower()}s"):
            self.calls.list_pages += 1
            for record in page:
                number = str(record.get(self.read_number))
                if number in numbers:
                    found[number] = record
            if len(found) == len(numbers):
                break
        return found

    def alone(self, number: str) -> dict[str, Any] | None:
        """One document, read alone; ``None`` when Visma does not have it."""
        path = self.doctype.endpoint("get")[1].replace("{number}", quote(number, safe=""))
        reply = self.client.call("GET", path)
        self.calls.documents += 1
        if reply.status_code == 404:
            return None
        if reply.status_code != 200:
            raise VismaError(
                f"reading {self.doctype.title.lower()} {number} back: {reply.status_code} "
                f"{self.client.explain(reply)}"
            )
        try:
            return dict(json_of(reply, dict, f"reading {number}"))
        except BadAnswer as exc:
            raise VismaError(str(exc)) from None

    # ---------------------------------------------------------- comparing

    def check(self, doc: RunDocument, record: dict[str, Any] | None) -> DocumentCheck:
        """``doc`` compared with Visma's copy: the list's, or, where that
        differs or lacks something, the one read alone."""
        out = DocumentCheck(doc.key, doc.rows, doc.number, doc.status)
        body = doc.body if isinstance(doc.body, dict) else {}
        self._file_side(out, body)
        if not doc.number:
            note = "Visma's number for it is not known: look it up in Visma"
            out.differences.append(
                Difference(doc.key, doc.rows, "", "document", "sent", None, note)
            )
            return out
        if record is not None:
            differences, lacking = self._compare(doc, body, record)
            if not differences and not lacking:
                return self._visma_side(out, body, record, "list", differences)
        record = self.alone(doc.number)
        if record is None:
            out.total_visma = Decimal(0) if out.total_file is not None else None
            out.differences.append(
                Difference(
                    doc.key, doc.rows, doc.number, "document", doc.number, None, "not in Visma"
                )
            )
            return out
        differences, _ = self._compare(doc, body, record)
        return self._visma_side(out, body, record, "alone", differences)

    def _file_side(self, out: DocumentCheck, body: dict[str, Any]) -> None:
        out.lines_file = len(self._lines(body))
        out.total_file = self._file_total(body)
        if self.facts.party:
            out.party = str(unwrap(body.get(self.facts.party.field)) or "")
        if self.facts.currency:
            out.currency = str(unwrap(body.get(self.facts.currency)) or "")

    def _visma_side(
        self,
        out: DocumentCheck,
        body: dict[str, Any],
        record: dict[str, Any],
        read: str,
        differences: list[Difference],
    ) -> DocumentCheck:
        out.found, out.read = True, read
        out.visma_status = str(record.get("status") or "")
        out.differences = differences
        visma_lines = record.get(self.doctype.lines) if self.doctype.lines else None
        out.lines_visma = len(visma_lines) if isinstance(visma_lines, list) else None
        if self.facts.total:
            out.total_visma = as_decimal(record.get(self.facts.total))
        out.shown = {name: at_path(record, name)[1] for name in self.facts.shown}
        if self.facts.party:
            found, value = self.facts.find(self.facts.party.field, record)
            out.party = out.party or (str(code_of(value)) if found else "")
            out.party_name = name_of(value) if found else ""
            if out.party and out.party_name:
                self.names.setdefault(out.party, out.party_name)
        if self.facts.currency and not out.currency:
            found, value = self.facts.find(self.facts.currency, record)
            out.currency = str(value) if found and value is not None else ""
        return out

    def _compare(
        self, doc: RunDocument, body: dict[str, Any], record: dict[str, Any]
    ) -> tuple[list[Difference], bool]:
        """The differences, and whether ``record`` lacks something compared
        (so that the document is read alone before anything is said)."""
        found: list[Difference] = []
        lacking = False

        def differ(name: str, file: Any, visma: Any, note: str = "") -> None:
            found.append(Difference(doc.key, doc.rows, doc.number, name, file, visma, note))

        for path, value in header_leaves(body, skip=self.doctype.lines):
            if self.facts.is_unread(path):
                continue
            present, visma = self.facts.find(path, record)
            if not present:
                lacking = True
                if value is not None:
                    differ(path, value, None, "Visma shows no value")
                continue
            visma = code_of(visma)
            if not same(value, visma):
                differ(path, value, visma)
        if self.doctype.lines:
            sent = self._lines(body)
            have = record.get(self.doctype.lines)
            if not isinstance(have, list):
                if sent:
                    lacking = True
                    differ("lines", len(sent), None, "Visma shows no lines")
            else:
                found += self._compare_lines(doc, sent, have)
        total = self._file_total(body)
        if total is not None and self.facts.total:
            visma_total = as_decimal(record.get(self.facts.total))
            if visma_total is None or abs(total - visma_total) > TOLERANCE:
                differ("total", total, visma_total, "excluding VAT")
        return found, lacking

    def _compare_lines(
        self, doc: RunDocument, sent: list[dict[str, Any]], have: list[Any]
    ) -> list[Difference]:
        out: list[Difference] = []
        number_field = self.doctype.line_number
        read_number = self.doctype.read_line_number or number_field
        visma = sorted(
            (x for x in have if isinstance(x, dict)),
            key=lambda x: as_decimal(x.get(read_number)) or Decimal(0),
        )
        if len(sent) != len(visma):
            out.append(Difference(doc.key, doc.rows, doc.number, "lines", len(sent), len(visma)))
        by_number = {str(code_of(x.get(read_number))): x for x in visma}
        numbered = bool(sent) and all(unwrap(s.get(number_field)) is not None for s in sent)
        read = self.facts.line_read
        for at, line in enumerate(sent):
            if numbered:
                mine = by_number.get(str(unwrap(line.get(number_field))))
            else:
                mine = visma[at] if at < len(visma) else None
            if mine is None:
                continue  # the count says it
            label = f"line {code_of(mine.get(read_number)) or at + 1}"
            if self.facts.formula is None:
                continue
            quantity = unwrap(line.get(self.facts.formula.quantity))
            price = unwrap(line.get(self.facts.formula.price))
            amount = self._line_amount(line)
            for name, file in (("quantity", quantity), ("price", price), ("amount", amount)):
                if file is None:
                    continue  # left to Visma (an item's own price): not judged
                value = mine.get(read[name])
                if not same(file, value):
                    out.append(
                        Difference(doc.key, doc.rows, doc.number, f"{label} {name}", file, value)
                    )
        return out

    def _lines(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        lines = body.get(self.doctype.lines) if self.doctype.lines else None
        return [x for x in lines if isinstance(x, dict)] if isinstance(lines, list) else []

    def _line_amount(self, line: dict[str, Any]) -> Decimal | None:
        """The line's amount as the file states it: sent, or worked out as
        the type's x-control declares it; ``None`` when it cannot be."""
        sent = as_decimal(unwrap(line.get(self.facts.line_amount)))
        if sent is not None or self.facts.formula is None:
            return sent
        values = {name: unwrap(value) for name, value in line.items()}
        computed = line_sum(self.facts.formula, values)
        return computed.net if computed is not None else None

    def _file_total(self, body: dict[str, Any]) -> Decimal | None:
        if not self.facts.total or not self.doctype.lines:
            return None
        amounts = [self._line_amount(line) for line in self._lines(body)]
        if any(a is None for a in amounts):
            return None
        return sum((a for a in amounts if a is not None), Decimal(0))

    # ---------------------------------------------------------- balances

    def party_totals(self, checks: list[DocumentCheck]) -> list[Totals]:
        party = self.facts.party
        if party is None:
            return []
        totals: dict[str, Totals] = {}
        for check in checks:
            t = totals.setdefault(check.party, Totals(check.party))
            _add(t, check)
        for t in totals.values():
            t.title = self.names.get(t.name, "")
        numbers = [n for n in totals if n]
        balances = self._balances(party, numbers)
        for number, t in totals.items():
            found = balances.get(number)
            if isinstance(found, str):
                t.note = found
            elif found is not None:
                t.shown = {name: at_path(found, name)[1] for name in party.shown}
                t.title = t.title or name_of(at_path(found, party.key.rpartition(".")[0])[1])
        return sorted(totals.values(), key=lambda t: t.name)

    def _balances(self, party: Party, numbers: list[str]) -> dict[str, Any]:
        """number -> the balance record (or why there is none), read one by
        one for a few parties, else from the paged list of all."""
        out: dict[str, Any] = {}
        if not numbers:
            return out
        if len(numbers) <= ONE_BY_ONE:
            for number in numbers:
                path = party.one.partition(" ")[2].replace("{number}", quote(number, safe=""))
                reply = self.client.call("GET", path)
                self.calls.balances += 1
                if reply.status_code == 200:
                    try:
                        out[number] = json_of(reply, dict, f"the balance of {number}")
                    except BadAnswer as exc:
                        out[number] = str(exc)
                else:
                    out[number] = (
                        f"Visma answered {reply.status_code}: {self.client.explain(reply)}"
                    )
            return out
        wanted = set(numbers)
        path = party.all.partition(" ")[2]
        for page in _pages(self.client, path, {}, f"the {party.title.lower()}s' balances"):
            self.calls.balances += 1
            for record in page:
                number = str(code_of(at_path(record, party.key)[1]))
                if number in wanted:
                    out[number] = record
            if len(out) == len(wanted):
                break
        for number in wanted - set(out):
            out[number] = "not in Visma's list of balances"
        return out


def _add(t: Totals, check: DocumentCheck) -> None:
    t.documents += 1
    if check.total_file is None:
        t.unjudged += 1
        return
    t.file += check.total_file
    t.visma += check.total_visma or Decimal(0)


def _currency_totals(checks: list[DocumentCheck]) -> list[Totals]:
    totals: dict[str, Totals] = {}
    for check in checks:
        if check.total_file is None and check.total_visma is None:
            continue  # a type without totals (customers, suppliers)
        _add(totals.setdefault(check.currency, Totals(check.currency)), check)
    return sorted(totals.values(), key=lambda t: t.name)


def _pages(
    client: VismaClient, path: str, params: Mapping[str, Any], what: str
) -> Iterator[list[dict[str, Any]]]:
    """A list's pages (``pageNumber`` / ``pageSize``), until a page is short
    of what Visma keeps to (``metadata.maxPageSize``, else the first page's
    length) or empty."""
    page, full = 1, PAGE
    while True:
        reply = client.call("GET", path, params={**params, "pageNumber": page, "pageSize": PAGE})
        if reply.status_code != 200:
            raise VismaError(f"reading {what} back: {reply.status_code} {client.explain(reply)}")
        try:
            records = json_of(reply, list, f"reading {what}")
        except BadAnswer as exc:
            raise VismaError(str(exc)) from None
        records = [r for r in records if isinstance(r, dict)]
        yield records
        if not records:
            return
        if page == 1:
            full = min(PAGE, _max_page(records[0].get("metadata"), len(records)))
        if len(records) < full:
            return
        page += 1


def _max_page(metadata: Any, first: int) -> int:
    try:
        return int(metadata["maxPageSize"])
    except (KeyError, TypeError, ValueError):
        return first
