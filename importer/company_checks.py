"""Preflight: a checked batch against the company in Visma, before anything is sent.

:func:`check` finds what a file gets wrong in itself; what it gets wrong
about the company (a customer number Visma does not have, a mistyped VAT
code, a date in a closed period) Visma would refuse one document at a
time, after the documents before it were created. :func:`preflight` finds
it first, on the cell it concerns, naming the closest values the company
has:

- every field a schema declares with ``x-reference`` (customers and
  suppliers, items, VAT codes, accounts, subaccount segments, currencies,
  credit terms, branches, projects, VAT zones) must name a record of that
  list of the company (without regard to case, as Visma compares);
- each document's financial period (its post or financial period when it
  gives one, else its date's) must not be closed in the ledger its
  ``x-reference`` names (customer documents the customer ledger, supplier
  invoices the supplier ledger);
- a name given beside a number (``x-cross-check``: ``customerName`` beside
  ``customerNumber``) must be the name Visma has for that number, allowing
  for case, accents, spacing, punctuation and legal forms (AS, ASA, AB, Oy,
  ApS, Ltd ...), so that a wrong number that happens to exist is caught;
- the documents already in Visma are found in bulk, as a run in create mode
  finds them (:func:`importer.targets.visma.find_existing`), and reported as
  warnings.

The lists are read whole, once, through :class:`importer.targets.lists.ListReader`
(kept on disk a while, so that a nightly series of files reads them once):
the cost is the lists' records divided by the page size, plus the pages of
the lookup of existing documents, whatever the number of rows. A problem
found in a list taken from the cache is checked again against the list read
afresh before it is reported. The problems become issues of the batch's
rows (a header field's on the document's first row, where its value comes
from; a line field's on each line), and a document with one is held back
whole, as with any invalid row.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.checks import Reference
from importer.errors import VismaError
from importer.group import Document, hold_back, natural_fields
from importer.issues import Severity
from importer.mapping.columns import MappedRow
from importer.settings import Connection
from importer.targets.client import BadAnswer, OutcomeUnknown, VismaClient, scopes
from importer.targets.lists import MAX_AGE, ListReader, Records
from importer.targets.visma import Refused, find_existing

if TYPE_CHECKING:
    from importer.batch import Batch
    from importer.targets.journal import Journal

__all__ = ["PreflightResult", "preflight", "same_name"]

CLOSEST = 3  # values named beside one the company does not have
_LEDGERS = {
    "customer": ("closedInCustomerLedger", "customer ledger"),
    "supplier": ("closedInSupplierLedger", "supplier ledger"),
}


@dataclass
class PreflightResult:
    """What a preflight did. ``calls``: the API calls it used, reading the
    lists (``list_calls``) and looking up the documents already in Visma
    (``lookup_calls``); ``lists``: the records of each list read;
    ``cached``: the lists taken from the cache, ``reread`` those of them
    read again because a problem was found in them; ``existing``: the
    documents found in Visma, ``{key: number}``; ``errors`` and
    ``warnings``: the problems added to the batch's rows."""

    target: str
    calls: int = 0
    list_calls: int = 0
    lookup_calls: int = 0
    lists: dict[str, int] = field(default_factory=dict)
    cached: list[str] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)
    existing: dict[str, str] = field(default_factory=dict)
    errors: int = 0
    warnings: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """For a report's JSON (``report.extra["preflight"]``)."""
        found = asdict(self)
        found["existing"] = len(self.existing)
        found["seconds"] = round(self.seconds, 3)
        return found


def preflight(
    batch: Batch,
    target: VismaClient | Connection,
    *,
    cache: Path | None = None,
    max_age: float = MAX_AGE,
    existing: bool = True,
    journal: Journal | None = None,
    warn_existing: bool = True,
    clock: Callable[[], float] = time.time,
) -> PreflightResult:
    """Check ``batch`` against the company ``target`` (a client, or a
    connection: a client that only reads is made for it) and add what is
    wrong to its rows. ``cache`` is the folder the lists are kept in (None:
    nowhere; :func:`importer.targets.lists.cache_beside` gives the usual
    one), used again for ``max_age`` seconds by ``clock``. ``existing``
    looks up the documents already in Visma, leaving out those ``journal``
    knows (a run decides on them by its journal), and with
    ``warn_existing`` says so on each one's key cell (a run that takes
    ``result.existing`` says it in its own report: ``exists in Visma``). Raises
    :class:`~importer.errors.VismaError` when Visma does not answer what the
    preflight must read, :class:`~importer.errors.AuthError` when it refuses
    the credentials."""
    started = time.perf_counter()
    own = isinstance(target, Connection)
    client = (
        VismaClient(target, scope=target.scope or scopes("read"))
        if isinstance(target, Connection)
        else target
    )
    result = PreflightResult(client.connection.target)
    documents = batch.valid_documents  # before this adds any problem
    try:
        reader = ListReader(client, cache=cache, max_age=max_age, clock=clock)
        plan = _plan(batch)
        lists = {name: reader.get(name) for name in sorted({r.list for _, r, _ in plan})}
        findings = _Checker(batch, plan, lists).run()
        stale = sorted({f.list for f in findings if lists[f.list].cached})
        if stale:  # kept from before: what was added since is not in it
            lists.update({name: reader.get(name, fresh=True) for name in stale})
            findings = _Checker(batch, plan, lists).run()
        result.list_calls = reader.calls
        result.lists = {name: len(records) for name, records in lists.items()}
        result.cached = [n for n, records in lists.items() if records.cached]
        result.reread = stale
        if existing and "x-bulk-find" in batch.doctype.schema and documents:
            try:
                found, result.lookup_calls = find_existing(
                    client, batch.doctype, documents, journal=journal
                )
            except (OutcomeUnknown, BadAnswer, Refused) as exc:
                raise VismaError(
                    f"looking up the documents already in Visma: {exc}; nothing was sent"
                ) from None
            result.existing = found
            if warn_existing:
                findings += _existing(batch, documents, found)
    finally:
        if own:
            client.session.close()
    for finding in findings:
        row = finding.row
        row.issues.append(
            batch.colmap.issue(row, finding.field, finding.key, finding.params, finding.severity)
        )
        if finding.severity == "error":
            result.errors += 1
        else:
            result.warnings += 1
    hold_back(batch.grouping)  # a document with a new problem is not sent at all
    result.calls = result.list_calls + result.lookup_calls
    result.seconds = time.perf_counter() - started
    return result


# ------------------------------------------------------------ the plan


def _plan(batch: Batch) -> list[tuple[str, Reference, int]]:
    """(field, its reference, subaccount segment or 0) for each column of
    the file that names a record of one of the company's lists."""
    columns = batch.colmap.columns_set
    found: list[tuple[str, Reference, int]] = []
    for ref in batch.doctype.references:
        if not ref.pattern:
            if ref.field in columns:
                found.append((ref.field, ref, 0))
            continue
        head, _, tail = ref.field.partition("{n}")
        rx = re.compile(re.escape(head) + r"([0-9]+)" + re.escape(tail))
        for name in sorted(columns):
            m = rx.fullmatch(name)
            if m:
                found.append((name, ref, int(m.group(1))))
    return found


@dataclass(frozen=True)
class _Finding:
    row: MappedRow
    field: str
    key: str  # the message (importer.codes.MESSAGES)
    params: dict[str, object]
    list: str = ""  # the list that says so ("" for a document found in Visma)
    severity: Severity = "error"


class _Checker:
    """Every reference of the batch against the lists read; nothing here calls Visma."""

    def __init__(
        self,
        batch: Batch,
        plan: list[tuple[str, Reference, int]],
        lists: dict[str, Records],
    ) -> None:
        self.batch = batch
        self.doctype = batch.doctype
        self.plan = plan
        self.lists = lists
        self.found: list[_Finding] = []
        self.refs = {name: ref for name, ref, _ in plan}
        self.periods = [(n, r) for n, r, _ in plan if r.list == "financialPeriod"]
        self.fields = [
            (n, r, segment, self.doctype.is_line_field(n))
            for n, r, segment in plan
            if r.list != "financialPeriod"
        ]
        self.names = {num: name for name, num in self.doctype.cross_checks.items()}
        self._closest: dict[tuple[str, str], str] = {}
        self._known: set[tuple[str, str]] = set()  # (list, value): the company has it
        self._closed: dict[tuple[str, str], bool] = {}  # (YYYYMM, ledger) -> closed there
        self._by_name: dict[str, dict[str, list[str]]] = {}
        self._segments: dict[int, tuple[str, dict[str, tuple[str, str]]]] | None = None

    def run(self) -> list[_Finding]:
        for doc in self.batch.documents:
            self._document(doc)
        return self.found

    def _document(self, doc: Document) -> None:
        head = doc.rows[0]
        lines = doc.rows[doc.lines_from :]
        periods = self.periods
        for name, ref, segment, is_line in self.fields:
            for row in lines if is_line else (head,):
                value = _text(row.values.get(name))
                if not value or _flagged(row, name):
                    continue
                if ref.list == "subaccount":
                    self._segment(row, name, segment, value)
                else:
                    self._one(row, name, ref.list, value)
        given = [(n, r) for n, r in periods if r.form != "date" and _text(head.values.get(n))]
        for name, ref in given or [(n, r) for n, r in periods if r.form == "date"]:
            self._period(head, name, ref)
        for name_field, number_field in self.doctype.cross_checks.items():
            self._name(head, name_field, number_field)

    def _add(
        self, row: MappedRow, name: str, key: str, list_name: str, /, **params: object
    ) -> None:
        self.found.append(_Finding(row, name, key, params, list_name))

    # ------------------------------------------------------ one value

    def _one(self, row: MappedRow, name: str, list_name: str, value: str) -> None:
        if (list_name, value) in self._known:
            return
        records = self.lists[list_name]
        if not len(records) or records.find(value) is not None:
            self._known.add((list_name, value))
            return  # a list the company does not have is not checked, as in Visma
        spec = records.spec
        beside = self.names.get(name)
        typed = _text(row.values.get(beside)) if beside else ""
        match = self._named(list_name, typed) if typed else []
        if match:
            self._add(
                row,
                name,
                "unknown-reference.by-name",
                list_name,
                value=value,
                things=spec.many,
                name=typed,
                thing=spec.one,
                match=match[0],
            )
            return
        self._add(
            row,
            name,
            "unknown-reference",
            list_name,
            value=value,
            things=spec.many,
            closest=self.closest(list_name, value),
        )

    def closest(self, list_name: str, value: str) -> str:
        """The company's values most like ``value``, with their names."""
        known = self._closest.get((list_name, value))
        if known is None:
            records = self.lists[list_name].records
            picked = closest(value, [(str(r["key"]), str(r.get("label") or "")) for r in records])
            known = self._closest[(list_name, value)] = "; ".join(_shown(*p) for p in picked)
        return known

    def _named(self, list_name: str, name: str) -> list[str]:
        """The keys of the records whose name is ``name`` (as :func:`same_name` compares)."""
        index = self._by_name.get(list_name)
        if index is None:
            index = self._by_name[list_name] = {}
            for r in self.lists[list_name].records:
                index.setdefault(name_key(str(r.get("label") or "")), []).append(str(r["key"]))
        wanted = name_key(name)
        return index.get(wanted, []) if wanted else []

    # ---------------------------------------------------- subaccounts

    def _segment(self, row: MappedRow, name: str, segment: int, value: str) -> None:
        """A segment's value must be one the company's subaccounts have for it."""
        segments = self._segment_values()
        if not segments:
            return
        if segment not in segments:
            shown = ", ".join(
                f"{n} ({t})" if t else str(n) for n, (t, _) in sorted(segments.items())
            )
            self._add(
                row,
                name,
                "unknown-reference.no-segment",
                "subaccount",
                segment=segment,
                segments=shown,
            )
            return
        title, values = segments[segment]
        if value.casefold() in values:
            return
        picked = closest(value, list(values.values()))
        self._add(
            row,
            name,
            "unknown-reference.segment",
            "subaccount",
            value=value,
            segment=segment,
            segment_title=title or f"segment {segment}",
            closest="; ".join(_shown(*p) for p in picked),
        )

    def _segment_values(self) -> dict[int, tuple[str, dict[str, tuple[str, str]]]]:
        """segment id -> (its title, {value casefolded: (value, its name)})."""
        if self._segments is None:
            self._segments = {}
            for record in self.lists["subaccount"].records:
                for seg in record.get("segments") or []:
                    if not isinstance(seg, dict) or "segmentId" not in seg:
                        continue
                    _, values = self._segments.setdefault(
                        int(seg["segmentId"]), (str(seg.get("segmentDescription") or ""), {})
                    )
                    value = str(seg.get("segmentValue") or "")
                    values[value.casefold()] = (
                        value,
                        str(seg.get("segmentValueDescription") or ""),
                    )
        return self._segments

    # -------------------------------------------------------- periods

    def _period(self, row: MappedRow, name: str, ref: Reference) -> None:
        value = _text(row.values.get(name))
        period = _yyyymm(row.values.get(name), ref.form)
        if not period or _flagged(row, name):
            return
        records = self.lists["financialPeriod"]
        flag, ledger = _LEDGERS[ref.ledger]
        closed = self._closed.get((period, flag))
        if closed is None:
            found = records.find(period)  # not set up: Visma's to judge
            closed = self._closed[(period, flag)] = found is not None and bool(found.get(flag))
        if not closed:
            return
        open_ = [
            str(r["key"]) for r in records.records if not r.get(flag) and len(str(r["key"])) == 6
        ]
        near = sorted(open_, key=lambda p: (abs(_months(p) - _months(period)), p))[:2]
        self._add(
            row,
            name,
            "closed-period",
            "financialPeriod",
            title=self.batch.colmap.header_in(row.sheet, name),
            value=value,
            period=_mm_yyyy(period),
            ledger=ledger,
            closest=", ".join(_mm_yyyy(p) for p in sorted(near)) or "none",
        )

    # ---------------------------------------------------------- names

    def _name(self, row: MappedRow, name_field: str, number_field: str) -> None:
        """The name beside a number must be the name Visma has for it."""
        ref = self.refs.get(number_field)
        name, number = _text(row.values.get(name_field)), _text(row.values.get(number_field))
        if ref is None or not name or not number or _flagged(row, name_field):
            return
        records = self.lists[ref.list]
        found = records.find(number)
        if found is None or same_name(name, str(found.get("label") or "")):
            return  # an unknown number is said on its own cell
        spec = records.spec
        title = self.batch.colmap.header_in(row.sheet, number_field)
        others = [k for k in self._named(ref.list, name) if k.casefold() != number.casefold()]
        params: dict[str, object] = {
            "value": name,
            "thing": spec.one,
            "number": found["key"],
            "known": found.get("label") or "",
            "number_title": title,
        }
        if others:
            self._add(
                row, name_field, "name-mismatch.elsewhere", ref.list, **params, match=others[0]
            )
        else:
            self._add(row, name_field, "name-mismatch", ref.list, **params)


def _existing(batch: Batch, documents: Iterable[Document], found: dict[str, str]) -> list[_Finding]:
    """A warning on the key cell of each document found in Visma."""
    out = []
    for doc in documents:
        number = found.get(doc.key)
        if number is None:
            continue
        name = (natural_fields(doc.key_field) or (doc.key_field,))[0]
        row = doc.rows[0]
        params: dict[str, object] = {
            "title": batch.colmap.header_in(row.sheet, name),
            "value": _text(doc.header.get(name)) or doc.key,
            "number": number,
        }
        out.append(_Finding(row, name, "already-in-visma", params, "", "warning"))
    return out


# ------------------------------------------------------------ helpers


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, bool) else str(value).strip()


def _flagged(row: MappedRow, name: str) -> bool:
    """The cell has a problem already (a value that could not be read, a
    pattern it breaks): that is said once."""
    return bool(row.issues) and any(i.field == name and i.severity == "error" for i in row.issues)


def _yyyymm(value: Any, form: str) -> str:
    """The financial period (YYYYMM) a cell says, as its form writes it."""
    if isinstance(value, date):
        return f"{value.year:04d}{value.month:02d}"
    text = _text(value)
    if form == "date":
        m = re.match(r"(\d{4})-(\d{2})-\d{2}", text)
        return m.group(1) + m.group(2) if m else ""
    if not re.fullmatch(r"\d{6}", text):
        return ""
    return text[2:] + text[:2] if form == "MMYYYY" else text


def _months(period: str) -> int:
    return int(period[:4]) * 12 + int(period[4:6])


def _mm_yyyy(period: str) -> str:
    return f"{period[4:]}-{period[:4]}"


def _shown(key: str, label: str) -> str:
    return f"{key} ({label})" if label and label != key else key


def closest(value: str, known: list[tuple[str, str]], n: int = CLOSEST) -> list[tuple[str, str]]:
    """The ``n`` of ``known`` (key, name) most like ``value``: by the key,
    counting a typo (a character left out, added, changed, or two swapped)
    as one edit and keys alike from the start as closer; or by the name, when
    a name was typed where the key goes."""
    wanted = value.casefold()
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(wanted)
    scored = []
    for key, label in known:
        k = key.casefold()
        longest = max(len(k), len(wanted), 1)
        prefix = len(_common_prefix(k, wanted)) / longest
        score = 1 - _edits(k, wanted) / longest + 0.2 * prefix + 0.05 * (len(k) == len(wanted))
        if label and len(wanted) > 3:
            matcher.set_seq1(label.casefold())
            score = max(score, matcher.ratio())
        scored.append((-score, key, label))
    scored.sort()
    return [(key, label) for _, key, label in scored[:n]]


def _edits(a: str, b: str) -> int:
    """The edits from ``a`` to ``b``: characters left out, added or changed,
    and two neighbours swapped (optimal string alignment)."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        now = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            now[j] = min(row[j] + 1, now[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                now[j] = min(now[j], before[j - 2] + 1)
        before, row = row, now
    return row[len(b)]


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


# The legal forms a company's name may carry or leave out (Nordic, German,
# English, Dutch, French, Italian, Spanish, Portuguese...), as words.
LEGAL_FORMS = frozenset(
    (
        *("as", "asa", "ab", "abp", "oy", "oyj", "aps", "is", "ks", "ans", "da", "ba", "sa"),
        *("nuf", "enk", "iks", "hf", "ehf", "gmbh", "ag", "kg", "ohg", "ug", "ltd", "limited"),
        *("plc", "llc", "llp", "inc", "corp", "co", "bv", "nv", "sarl", "sas", "srl", "spa"),
        *("sl", "ltda", "lda", "sf", "hb", "kb", "ek"),
    )
)


@functools.lru_cache(maxsize=65536)  # a file names the same customers again and again
def name_key(name: str) -> str:
    """A company's name as :func:`same_name` compares it: without case,
    accents, punctuation, spaces and a legal form at either end."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = re.findall(r"\w+", text.replace("a/s", " as ").replace("i/s", " is "))
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    while len(words) > 1 and words[0] in LEGAL_FORMS:
        words.pop(0)
    return "".join(words)


def same_name(given: str, known: str) -> bool:
    """Whether two company names are the same name, allowing for case,
    accents, spacing, punctuation and legal forms: ``fjellbekk kafe`` is
    ``Fjellbekk Kafé AS``, ``Göteborgs Kafferosteri`` ``Göteborgs
    Kafferosteri AB``."""
    return name_key(given) == name_key(known)
