"""The company's reference lists, read from Visma.net whole and kept a while.

A preflight (:mod:`importer.company_checks`) checks what a file refers to
against the company: its customers, suppliers, items, VAT codes, accounts,
subaccounts, branches, currencies, credit terms, projects, VAT zones and
financial periods. :class:`ListReader` reads each list once, page by page
(:data:`LISTS` says which lists take ``pageNumber`` / ``pageSize``), with a
page as large as Visma serves (it caps what is asked for at its
``maxPageSize`` and says so in ``metadata``, or in the credit terms'
envelope), so that reading a list costs its records divided by the page
size, and nothing per row of a file.

What was read is kept on disk for ``max_age`` seconds (the setting
``lists_max_age``, 3600 by default) and used again by the next run for the
same company, so that a nightly series of files reads the lists once: in
``JOURNAL.lists/`` beside a journal file (:func:`cache_beside`), keyed on the
API and the company (:attr:`importer.settings.Connection.target`), never on
the client or its secret. Only what a preflight needs of each record is
kept: its key, its name or description, and the fields :data:`LISTS` names
(a period's closed ledgers, a subaccount's segments). A list kept from
before may miss what was added since: the preflight reads a kept list again
before it reports a problem found in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.checks import REFERENCE_LISTS
from importer.errors import VismaError
from importer.settings import is_url
from importer.targets.client import BadAnswer, OutcomeUnknown, VismaClient, json_of

Json = dict[str, Any]

PAGE = 1000  # records asked for a page; Visma serves at most its maxPageSize
MAX_AGE = 3600.0  # seconds a list read before is used again (lists_max_age)
CACHE_FORMAT = 1


@dataclass(frozen=True)
class CompanyList:
    """One list of the company, as the spec serves it at ``GET /v1/<name>``."""

    name: str  # the path segment, as the spec spells it
    key: str  # the read DTO's field that identifies a record
    one: str  # for messages: "item", "VAT code"
    many: str  # "items", "VAT codes"
    label: str = ""  # the field shown beside a key: a name, a description
    paged: bool = False  # the list takes pageNumber and pageSize
    keep: tuple[str, ...] = ()  # other fields a preflight reads


LISTS: dict[str, CompanyList] = {
    c.name: c
    for c in (
        CompanyList("customer", "number", "customer", "customers", "name", paged=True),
        CompanyList("supplier", "number", "supplier", "suppliers", "name", paged=True),
        CompanyList("inventory", "inventoryNumber", "item", "items", "description", paged=True),
        CompanyList("vat", "vatId", "VAT code", "VAT codes", "description"),
        CompanyList("vatZone", "id", "VAT zone", "VAT zones", "description", paged=True),
        CompanyList("account", "accountCD", "account", "accounts", "description"),
        CompanyList(
            "subaccount",
            "subaccountNumber",
            "subaccount",
            "subaccounts",
            "description",
            paged=True,
            keep=("segments",),
        ),
        CompanyList("branch", "number", "branch", "branches", "name"),
        CompanyList("currency", "id", "currency", "currencies", "description"),
        CompanyList(
            "creditTerm", "termsId", "credit terms", "credit terms", "description", paged=True
        ),
        CompanyList("project", "projectID", "project", "projects", "description", paged=True),
        CompanyList(
            "financialPeriod",
            "period",
            "financial period",
            "financial periods",
            "description",
            keep=("closedInCustomerLedger", "closedInSupplierLedger"),
        ),
    )
}
assert tuple(LISTS) == REFERENCE_LISTS  # the lists a schema's x-reference may name


@dataclass
class Records:
    """One list as read: compact records (``key``, ``label`` and the kept
    fields), found by key without regard to case, as Visma compares them."""

    spec: CompanyList
    records: list[Json]
    read_at: float  # when it was read from Visma (the reader's clock)
    cached: bool = False  # taken from the cache, not read in this run
    calls: int = 0  # calls this reading took (0 from the cache)
    _index: dict[str, Json] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {str(r["key"]).casefold(): r for r in self.records}

    def find(self, key: str) -> Json | None:
        return self._index.get(key.strip().casefold())

    def __len__(self) -> int:
        return len(self.records)


def cache_beside(journal: str | Path) -> Path:
    """Where the lists are kept: ``JOURNAL.lists/`` beside a journal file
    (``journal.sqlite`` -> ``journal.lists``), so that they go where the
    journal goes; for a journal in PostgreSQL, ``$XDG_CACHE_HOME/vnimport/lists``
    (``~/.cache/vnimport/lists``) on this machine."""
    if is_url(journal):
        home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(home) / "vnimport" / "lists"
    path = Path(journal)
    return path.with_name(f"{path.stem if path.suffix else path.name}.lists")


class ListReader:
    """Reads the company's lists through ``client``, each at most once from
    Visma in the reader's life, and keeps them in ``cache`` (a folder; None:
    nowhere) for ``max_age`` seconds. ``calls`` counts the calls made."""

    def __init__(
        self,
        client: VismaClient,
        *,
        cache: Path | None = None,
        max_age: float = MAX_AGE,
        page_size: int = PAGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.cache = cache
        self.max_age = max_age
        self.page_size = page_size
        self.clock = clock
        self.calls = 0
        self._lists: dict[str, Records] = {}

    @property
    def target(self) -> str:
        return self.client.connection.target

    def get(self, name: str, *, fresh: bool = False) -> Records:
        """The list ``name``: as read before in this reader's life, else from
        the cache when it is younger than ``max_age``, else from Visma;
        ``fresh``: from Visma, unless this reader has read it there already."""
        known = self._lists.get(name)
        if known is not None and not (fresh and known.cached):
            return known
        spec = LISTS[name]
        found = None if fresh else self._load(spec)
        if found is None:
            before = self.calls
            records = [_compact(spec, r) for r in self._read(spec)]
            found = Records(spec, records, self.clock(), calls=self.calls - before)
            self._store(found)
        self._lists[name] = found
        return found

    # ------------------------------------------------------------ Visma

    def _read(self, spec: CompanyList) -> Iterator[Json]:
        """Every record of the list, page by page."""
        what = f"the company's {spec.many} (GET /v1/{spec.name})"
        seen: set[str] = set()
        served = 0  # records served, with a key or not
        page, size = 1, self.page_size
        while True:
            params = {"pageNumber": page, "pageSize": size} if spec.paged else None
            try:
                reply = self.client.call("GET", f"/v1/{spec.name}", params=params)
            except OutcomeUnknown as exc:
                raise VismaError(f"reading {what}: {exc}") from None
            finally:
                self.calls += 1
            if reply.status_code != 200:
                raise VismaError(
                    f"reading {what}: {reply.status_code} {self.client.explain(reply)}"
                )
            try:
                body = json_of(reply, object, f"reading {what}")
                rows, count, total, limit = _page(body, spec)
            except BadAnswer as exc:
                raise VismaError(str(exc)) from None
            fresh = [r for r in rows if str(r[spec.key]).casefold() not in seen]
            seen.update(str(r[spec.key]).casefold() for r in fresh)
            served += count
            yield from fresh
            if not spec.paged or not count or (rows and not fresh):
                return  # one page, the last page, or a page served again
            if limit is not None and limit < size:
                size = limit  # the pages after are asked for at the size served
            if total is not None:
                if served >= total:
                    return
            elif limit is not None and count < size:
                return
            page += 1

    # ------------------------------------------------------------ cache

    def _file(self, spec: CompanyList) -> Path | None:
        if self.cache is None or self.max_age <= 0:
            return None
        company = hashlib.sha256(self.target.encode("utf-8")).hexdigest()[:16]
        return self.cache / company / f"{spec.name}.json"

    def _load(self, spec: CompanyList) -> Records | None:
        path = self._file(spec)
        if path is None:
            return None
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            fits = (
                kept["format"] == CACHE_FORMAT
                and kept["target"] == self.target
                and kept["list"] == spec.name
            )
            read_at = float(kept["read_at"])
            records = kept["records"]
            fits = fits and isinstance(records, list) and all("key" in r for r in records)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or not one this vnimport wrote: read the list again
        age = self.clock() - read_at
        if not fits or not 0 <= age <= self.max_age:
            return None
        return Records(spec, records, read_at, cached=True)

    def _store(self, found: Records) -> None:
        path = self._file(found.spec)
        if path is None:
            return
        text = json.dumps(
            {
                "format": CACHE_FORMAT,
                "target": self.target,
                "list": found.spec.name,
                "read_at": found.read_at,
                "records": found.records,
            },
            ensure_ascii=False,
        )
        try:  # the company's data: for this user's eyes only
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(partial, path)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a cache that cannot be written costs the next run a read, nothing else


def _page(body: Any, spec: CompanyList) -> tuple[list[Json], int, int | None, int | None]:
    """A page's records that have a key, how many it served, the list's
    total count and the page size Visma keeps to, where the answer says
    them: a bare array with ``metadata`` in each record, or the envelope
    ``{pageSize, totalCount, records}``."""
    what = f"Visma's answer to reading the company's {spec.many}"
    meta: Any
    if isinstance(body, dict) and isinstance(body.get("records"), list):
        rows, meta = body["records"], body
        total, limit = meta.get("totalCount"), meta.get("pageSize")
    elif isinstance(body, list):
        rows = body
        meta = rows[0].get("metadata") if rows and isinstance(rows[0], dict) else None
        meta = meta if isinstance(meta, dict) else {}
        total, limit = meta.get("totalCount"), meta.get("maxPageSize")
    else:
        raise BadAnswer(f"{what} is not a list of records")
    if not all(isinstance(r, dict) for r in rows):
        raise BadAnswer(f"{what} is not a list of records")
    # a record without its key names nothing a file could refer to
    keyed = [r for r in rows if r.get(spec.key) not in (None, "")]
    return keyed, len(rows), _count(total), _count(limit) or None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _compact(spec: CompanyList, record: Mapping[str, Any]) -> Json:
    """What a preflight needs of a record."""
    kept: Json = {"key": str(record[spec.key]), "label": str(record.get(spec.label) or "")}
    for name in spec.keep:
        if name in record:
            kept[name] = record[name]
    return kept


__all__ = ["LISTS", "MAX_AGE", "CompanyList", "ListReader", "Records", "cache_beside"]
