"""The company's reference lists: served read-only on the spec's paths, and
the references a document makes to them checked, as Visma checks them.

A list's records are the spec's flat read DTOs, kept in the store beside the
documents (kind ``inventory``, ``vat``, ...), so that a state file keeps its
company. :func:`seed` puts a company in a new store; :class:`References` is
one tenant's lists, read once (no API call changes them), with
:meth:`References.problems`, what a document refers to that the company does
not have.

What is checked, in the read DTO a document becomes (request field in
brackets), when the company has that list:

- every kind: currency (``currencyId``; PO ``currency``), credit terms
  (``creditTermsId``; PO ``terms``), VAT zone (``vatZoneId``,
  ``customerVatZoneId``, ``supplierTaxZone``, ``supplierVatZone``), branch
  (``branchNumber``; PO ``branch``; on lines too);
- customers and suppliers: ``glAccounts`` accounts and subaccounts;
- customer documents: ``project``; lines: item (``inventoryNumber``),
  account (``accountNumber``), subaccount segments (``subaccount``), VAT code
  (``vatCodeId``); VAT codes of ``taxDetailLines`` / ``taxDetails``
  (``taxId``); the post period and financial period (given, or the document
  date's) must not be closed in the customer ledger;
- supplier invoices: lines as above, and ``prebookAccountNumber``,
  ``prebookSubaccount``, ``projectId``; the periods must not be closed in
  the supplier ledger;
- purchase orders: lines' item (``inventory``), ``account``, ``sub``,
  ``project``. A purchase order posts nothing, so its date is not checked.

Identifiers compare without regard to case, as the ERP's database does. A
period the company has not set up is not refused (a document dated today is
taken whatever today is).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from importer.sandbox import company, documents
from importer.sandbox.store import Store

Json = dict[str, Any]


@dataclass(frozen=True)
class RefList:
    """One reference list of the company, as the spec serves it."""

    kind: str  # the store's kind: "inventory", "vat", ...
    collection: str  # the path segment as the spec spells it: /v1/<collection>
    key: str  # the field the path's {id} names
    dto: str  # the spec's read DTO
    title: str  # for messages: "Item", "VAT code", ...
    paged: bool = False  # the spec's list takes pageNumber / pageSize
    envelope: bool = False  # {pageNumber, pageSize, totalCount, records} (notes §3)
    metadata: bool = False  # the DTO has metadata {totalCount, maxPageSize}
    # list query parameters: name -> (field, how); how is "text" (equals),
    # "contains", "bool", or "after" (the key greater than the value)
    filters: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    modified: bool = True  # lastModifiedDateTime(+Condition) filters the list
    one: bool = True  # the spec has GET /v1/<collection>/{id}


LISTS: dict[str, RefList] = {
    r.kind: r
    for r in (
        RefList(
            "inventory",
            "inventory",
            "inventoryNumber",
            "InventoryDto",
            "Item",
            paged=True,
            metadata=True,
            filters={
                "inventoryNumber": ("inventoryNumber", "text"),
                "description": ("description", "contains"),
                "status": ("status", "text"),
                "greaterThanValue": ("inventoryNumber", "after"),
            },
        ),
        RefList("vat", "vat", "vatId", "VatInformationDto", "VAT code"),
        RefList(
            "vat_zone",
            "vatZone",
            "id",
            "VatZoneDto",
            "VAT zone",
            paged=True,
            metadata=True,
            modified=False,
        ),
        RefList(
            "account",
            "account",
            "accountCD",
            "AccountDto",
            "Account",
            metadata=True,
            filters={
                "active": ("active", "bool"),
                "publicCode": ("publicCode1", "text"),
                "greaterThanValue": ("accountCD", "after"),
            },
        ),
        RefList(
            "subaccount",
            "subaccount",
            "subaccountNumber",
            "SubAccountDto",
            "Subaccount",
            paged=True,
            metadata=True,
            filters={"active": ("active", "bool")},
        ),
        RefList(
            "branch",
            "branch",
            "number",
            "BranchDto",
            "Branch",
            filters={"greaterThanValue": ("number", "after")},
        ),
        RefList("currency", "currency", "id", "CurrencyDto", "Currency", modified=False),
        RefList(
            "credit_term",
            "creditTerm",
            "termsId",
            "CreditTermDto",
            "Credit terms",
            paged=True,
            envelope=True,
            filters={"termsId": ("termsId", "text")},
            one=False,  # the spec has no GET /v1/creditTerm/{id}: filter by termsId
        ),
        RefList(
            "project",
            "project",
            "projectID",
            "ProjectDto",
            "Project",
            paged=True,
            metadata=True,
            filters={"status": ("status", "text"), "publicId": ("publicId", "text")},
        ),
        RefList(
            "financial_period",
            "financialPeriod",
            "period",
            "FinancialPeriodDto",
            "Financial period",
            filters={"greaterThanValue": ("period", "after")},
            modified=False,
        ),
    )
}
_BY_COLLECTION = {r.collection.lower(): r for r in LISTS.values()}
COMPANIES = ("demo", "empty", "large")


def list_for_collection(segment: str) -> RefList | None:
    """The reference list served at ``/v1/<segment>`` (any case), or None."""
    return _BY_COLLECTION.get(segment.lower())


# ----------------------------------------------------------------- seeding


def seed(store: Store, tenant: str, name: str) -> bool:
    """Give ``tenant`` the company ``name`` ("demo", "empty", or "large":
    the demo company with 5,000 customers and 2,000 items) if its state
    has none yet; True when records were added. A state that already has a
    company (a kept ``--db`` file) keeps its own, whatever ``name`` says;
    a state file from before companies gets the records it lacks (by
    number), and keeps what it has."""
    if name not in COMPANIES:
        raise ValueError(f"unknown company {name!r}: one of {', '.join(COMPANIES)}")
    if store.meta(f"company:{tenant}") is not None:
        return False
    added = False
    with store.transaction() as db:
        if name in ("demo", "large"):
            made = company.records() if name == "demo" else company.large_records()
            for kind, rows in made.items():
                key = LISTS[kind].key if kind in LISTS else documents.KINDS[kind].read_number
                for row in rows:
                    if not store.exists(db, tenant, kind, str(row[key])):
                        store.put(db, tenant, kind, str(row[key]), row)
                        added = True
        store.set_meta(db, f"company:{tenant}", name)
    return added


# -------------------------------------------------------------- the lists


class References:
    """One tenant's reference lists, and what a document refers to that they
    lack. ``check``: whether :meth:`problems` checks anything (a list the
    company does not have is never checked)."""

    def __init__(self, lists: Mapping[str, Iterable[Json]], *, check: bool = True) -> None:
        self.check = check
        self._records: dict[str, list[Json]] = {}
        self._by_key: dict[str, dict[str, Json]] = {}
        for kind, rows in lists.items():
            ref = LISTS[kind]
            self._records[kind] = list(rows)
            self._by_key[kind] = {str(r[ref.key]).casefold(): r for r in self._records[kind]}

    @classmethod
    def load(cls, store: Store, tenant: str, *, check: bool = True) -> References:
        return cls({kind: store.all(tenant, kind) for kind in LISTS}, check=check)

    def records(self, kind: str) -> list[Json]:
        return self._records.get(kind, [])

    def find(self, kind: str, key: str) -> Json | None:
        return self._by_key.get(kind, {}).get(key.casefold())

    def has(self, kind: str) -> bool:
        return bool(self._by_key.get(kind))

    # ----------------------------------------------------------- checks

    def problems(self, kind: documents.Kind, doc: Mapping[str, Any]) -> list[str]:
        """What ``doc`` (a read DTO, as :func:`documents.create` makes it)
        refers to that the company lacks, one sentence each, header first."""
        if not self.check:
            return []
        out: list[str] = []
        family = _FAMILY[kind.name]
        for path, list_kind in _HEADER[family]:
            self._one(out, "", list_kind, _at(doc, path))
        if family == "party":
            self._gl_accounts(out, doc.get("glAccounts"))
        for tax in doc.get("taxDetails" if family == "ar" else "taxDetailLines") or []:
            if isinstance(tax, dict):
                self._one(out, "VAT details: ", "vat", tax.get("taxId"))
        if family in ("ar", "ap"):
            self._periods(out, family, doc)
        if kind.read_lines:
            for line in doc.get(kind.read_lines) or []:
                where = f"Line {line.get(kind.read_line_number or '')}: "
                for path, list_kind in _LINE[family]:
                    value = _at(line, path)
                    if list_kind == "subaccount":
                        self._subaccount(out, where, value)
                    else:
                        self._one(out, where, list_kind, value)
        return out

    def _one(self, out: list[str], where: str, kind: str, value: Any) -> None:
        if value is None or str(value).strip() == "" or not self.has(kind):
            return
        if self.find(kind, str(value)) is None:
            out.append(f"{where}{LISTS[kind].title} '{value}' cannot be found in the system.")

    def _subaccount(self, out: list[str], where: str, value: Any) -> None:
        """A subaccount's segments: each must be a segment of the company,
        with a value that segment has (the values of the company's
        subaccounts)."""
        if not isinstance(value, dict) or not self.has("subaccount"):
            return
        known: dict[int, tuple[str, set[str]]] = {}
        for record in self.records("subaccount"):
            for seg in record.get("segments") or []:
                title, values = known.setdefault(
                    int(seg["segmentId"]), (str(seg.get("segmentDescription") or ""), set())
                )
                values.add(str(seg["segmentValue"]).casefold())
        number = value.get("subaccountNumber", "")
        for seg in value.get("segments") or []:
            segment_id, given = seg.get("segmentId"), str(seg.get("segmentValue") or "")
            if segment_id not in known:
                out.append(
                    f"{where}Subaccount '{number}': segment {segment_id} does not exist "
                    f"(the company's segments are {', '.join(map(str, sorted(known)))})."
                )
            elif given.casefold() not in known[segment_id][1]:
                title = known[segment_id][0] or f"Segment {segment_id}"
                out.append(
                    f"{where}Subaccount '{number}': {title} '{given}' "
                    f"(segment {segment_id}) does not exist."
                )

    def _gl_accounts(self, out: list[str], accounts: Any) -> None:
        if not isinstance(accounts, dict):
            return
        for name, value in accounts.items():
            if name.lower().endswith("subaccount"):
                if isinstance(value, dict) and "segments" in value:
                    self._subaccount(out, f"glAccounts.{name}: ", value)
            elif isinstance(value, dict):
                self._one(out, f"glAccounts.{name}: ", "account", value.get("number"))

    def _periods(self, out: list[str], family: str, doc: Mapping[str, Any]) -> None:
        """The periods a customer document or supplier invoice posts to must
        not be closed in its ledger."""
        if not self.has("financial_period"):
            return
        ledger, flag = (
            ("customer ledger", "closedInCustomerLedger")
            if family == "ar"
            else ("supplier ledger", "closedInSupplierLedger")
        )
        for period in dict.fromkeys(_periods_of(family, doc)):
            found = self.find("financial_period", period)
            if found is not None and found.get(flag):
                out.append(
                    f"The financial period {period[4:]}-{period[:4]} is closed in the {ledger}."
                )


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _periods_of(family: str, doc: Mapping[str, Any]) -> list[str]:
    """YYYYMM of the post period and the financial period (a read AR
    postPeriod is YYYYMM, a read AP one MMYYYY), else of the document date."""
    out = []
    post = str(doc.get("postPeriod") or "")
    if len(post) == 6 and post.isdigit():
        out.append(post if family == "ar" else post[2:] + post[:2])
    financial = str(doc.get("financialPeriod") or "")
    if len(financial) == 6 and financial.isdigit():
        out.append(financial)
    if not out:
        day = doc.get("documentDate" if family == "ar" else "date")
        if isinstance(day, str):
            with contextlib.suppress(ValueError):
                out.append(datetime.fromisoformat(day).strftime("%Y%m"))
    return out


_FAMILY = {
    "customer": "party",
    "supplier": "party",
    "customer_invoice": "ar",
    "customer_credit_note": "ar",
    "customer_debit_note": "ar",
    "supplier_invoice": "ap",
    "purchase_order": "po",
}
# (read path, list kind) of what a document's header refers to
_HEADER: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "party": (
        (("currencyId",), "currency"),
        (("creditTerms", "id"), "credit_term"),
        (("vatZone", "id"), "vat_zone"),
    ),
    "ar": (
        (("currencyId",), "currency"),
        (("creditTerms", "id"), "credit_term"),
        (("customerVatZone", "id"), "vat_zone"),
        (("branchNumber", "number"), "branch"),
        (("project", "id"), "project"),
    ),
    "ap": (
        (("currencyId",), "currency"),
        (("creditTerms", "id"), "credit_term"),
        (("supplierTaxZone", "id"), "vat_zone"),
        (("branchNumber", "number"), "branch"),
    ),
    "po": (
        (("currency",), "currency"),
        (("terms", "id"), "credit_term"),
        (("supplierVatZone", "id"), "vat_zone"),
        (("branch", "number"), "branch"),
    ),
}
# ... and its lines
_LINE: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "ar": (
        (("inventoryNumber",), "inventory"),
        (("account", "number"), "account"),
        (("subaccount",), "subaccount"),
        (("vatCode", "id"), "vat"),
        (("branchNumber", "number"), "branch"),
    ),
    "ap": (
        (("inventoryNumber",), "inventory"),
        (("account", "number"), "account"),
        (("subaccount",), "subaccount"),
        (("prebookAccount", "number"), "account"),
        (("prebookSubaccount",), "subaccount"),
        (("vatCode", "id"), "vat"),
        (("branchNumber", "number"), "branch"),
        (("project", "id"), "project"),
    ),
    "po": (
        (("inventory", "number"), "inventory"),
        (("account", "number"), "account"),
        (("sub",), "subaccount"),
        (("branch", "number"), "branch"),
        (("project", "id"), "project"),
    ),
}


# ---------------------------------------------------------------- serving


def matching(ref: RefList, records: Iterable[Json], query: Mapping[str, str]) -> list[Json]:
    """The records that pass a list query's filters (unknown parameters
    filter nothing, as in Visma). ValueError for a malformed value."""
    wanted = {k.lower(): v for k, v in query.items()}
    tests: list[Callable[[Json], bool]] = []
    for name, (fld, how) in ref.filters.items():
        value = wanted.get(name.lower())
        if value is None:
            continue
        tests.append(_filter(fld, how, value, name))
    given = [k for k in ("lastmodifieddatetime", "lastmodifieddatetimecondition") if k in wanted]
    if ref.modified and given:
        if len(given) == 1:
            raise ValueError(
                "lastModifiedDateTime and lastModifiedDateTimeCondition must be given together."
            )
        query_for = {
            "lastModifiedDateTime": wanted["lastmodifieddatetime"],
            "lastModifiedDateTimeCondition": wanted["lastmodifieddatetimecondition"],
        }
        try:  # the document lists' parsing and comparing (supplier: any kind with the filter)
            (cond,) = documents.conditions(documents.KINDS["supplier"], query_for)
        except documents.BusinessError as exc:
            raise ValueError(str(exc)) from None
        _, op, moment = cond
        tests.append(lambda r: _compare_moment(r.get("lastModifiedDateTime"), op, moment))
    return [r for r in records if all(t(r) for t in tests)]


def _filter(fld: str, how: str, value: str, name: str) -> Callable[[Json], bool]:
    if how == "bool":
        if value.strip().lower() not in ("true", "false"):
            raise ValueError(f"'{name}' must be true or false, not '{value}'.")
        flag = value.strip().lower() == "true"
        return lambda r: bool(r.get(fld)) is flag
    wanted = value.casefold()
    if how == "contains":
        return lambda r: wanted in str(r.get(fld) or "").casefold()
    if how == "after":
        if fld == "period" and len(value) == 4 and value.isdigit():
            return lambda r: str(r.get("year")) > value
        return lambda r: str(r.get(fld) or "").casefold() > wanted
    return lambda r: str(r.get(fld) or "").casefold() == wanted


def _compare_moment(have: Any, op: str, moment: str) -> bool:
    if not isinstance(have, str):
        return False
    try:
        mine = datetime.fromisoformat(have).isoformat(timespec="microseconds")
    except ValueError:
        return False
    return documents.passes([("m", mine)], [("m", op, moment)])


__all__ = [
    "COMPANIES",
    "LISTS",
    "RefList",
    "References",
    "list_for_collection",
    "matching",
    "seed",
]
