"""The customers' and suppliers' balances, as Visma's balance endpoints give them.

::

    GET /v1/customer/{customerCd}/balance     CustomerBalanceDto
    GET /v1/customer/balance                  [CustomerBalanceDto]
    GET /v1/supplier/{supplierCd}/balance     SupplierBalanceDto
    GET /v1/supplier/balance                  [SupplierBalanceDto]
    GET /v1/supplier/{supplierCd}/POBalance   SupplierPOBalanceDto
    GET /v1/supplier/POBalance                [SupplierPOBalanceDto]

Worked out from the stored documents, in the company's currency (the
documents' base-currency amounts), as the ledgers would have them:

- a customer's ``balance`` is what its released invoices and debit notes
  still owe, less its released credit notes (a document on hold or balanced,
  not released, is not in the ledger yet); ``totalSalePeriod`` and
  ``totalSaleYear`` are the released documents' amounts excluding VAT in the
  current financial period and year;
- a supplier's ``balance`` is what its released supplier invoices still
  owe (a ``CreditAdj`` less); ``unreleasedPurchasesNotInApproval`` the
  unreleased ones, without and with VAT; ``totalPurchaseInvoicePeriod`` and
  ``...Year`` the released ones of the current period and year;
- a supplier's PO balance: the order and line totals of its purchase orders
  on hold and open.

The lists take ``pageNumber`` / ``pageSize`` (as every list of Visma's),
``greaterThanValue`` (the numbers after it) and ``lastModifiedDateTime``
with its ``...Condition``, and come in the order of the numbers. Every key
emitted is a property of the spec's DTO (``tests/test_reconcile.py``).

:func:`answer` is the server's one hook: the answer's body for a balance
path, ``None`` for any other path, :class:`Refused` for an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from importer.sandbox.store import Store

Json = dict[str, Any]
UNRELEASED = ("Hold", "Balanced")
_CENT = Decimal("0.01")
_CONDITIONS = (">", ">=", "<", "<=")
# A purchase order's status -> the words of SupplierPOBalanceDto's totals
_PO_STATES = {"Hold": "POOnHold", "Open": "OpenPO", "Closed": "ClosedPO"}


class Refused(Exception):
    """An error answer: ``status`` and Visma's words."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


def answer(
    store: Store,
    tenant: str,
    method: str,
    parts: list[str],
    query: Mapping[str, str],
    max_page_size: int,
    now: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None),
) -> Any:
    """The body of a balance path's answer; ``None`` when ``parts`` (the
    path's segments) are not one."""
    low = [p.lower() for p in parts]
    if method != "GET" or len(low) not in (3, 4) or low[0] != "v1":
        return None
    what = (low[1], low[-1])
    if what not in (("customer", "balance"), ("supplier", "balance"), ("supplier", "pobalance")):
        return None
    party, endpoint = what
    make = _BALANCES[endpoint if party == "supplier" else "customer"]
    today = now()
    if len(low) == 4:
        number = parts[2]
        record = store.get(tenant, party, number)
        if record is None:
            raise Refused(404, f"{party.capitalize()} '{number}' not found.")
        return make(store, tenant, [record], today)[0]
    lq = {k.lower(): v for k, v in query.items()}
    records = sorted(store.all(tenant, party), key=lambda r: str(r.get("number")))
    after = lq.get("greaterthanvalue")
    if after:
        records = [r for r in records if str(r.get("number")) > after]
    rows = make(store, tenant, records, today)
    rows = _modified(rows, lq)
    page_number = _positive(lq.get("pagenumber", "1"), "pageNumber")
    page_size = min(_positive(lq.get("pagesize", str(max_page_size)), "pageSize"), max_page_size)
    return rows[(page_number - 1) * page_size : page_number * page_size]


# ------------------------------------------------------------- customers


def _customers(store: Store, tenant: str, records: list[Json], today: datetime) -> list[Json]:
    wanted = {str(r.get("number")): r for r in records}
    period, year = today.strftime("%Y%m"), today.strftime("%Y")
    owed: dict[str, Decimal] = {n: Decimal(0) for n in wanted}
    period_sales = dict(owed)
    year_sales = dict(owed)
    modified = {n: str(r.get("lastModifiedDateTime") or "") for n, r in wanted.items()}
    for kind in ("customer_invoice", "customer_debit_note", "customer_credit_note"):
        for doc in _documents(store, tenant, kind, wanted):
            number = _party(doc, "customer")
            modified[number] = max(modified[number], str(doc.get("lastModifiedDateTime") or ""))
            if doc.get("status") in UNRELEASED:
                continue
            sign = -1 if doc.get("documentType") == "CreditNote" else 1
            owed[number] += sign * _d(doc.get("balance"))
            sale = sign * _d(doc.get("detailTotal"))
            financial = str(doc.get("financialPeriod") or "")
            if financial == period:
                period_sales[number] += sale
            if financial[:4] == year:
                year_sales[number] += sale
    return [
        {
            "customer": _description(record),
            "balance": _money(owed[n]),
            "totalOrder": 0.0,
            "totalLoan": 0.0,
            "totalSalePeriod": _money(period_sales[n]),
            "totalSaleYear": _money(year_sales[n]),
            "totalDiscountPeriod": 0.0,
            "totalDiscountYear": 0.0,
            "lastModified": modified[n],
        }
        for n, record in wanted.items()
    ]


# ------------------------------------------------------------- suppliers


def _suppliers(store: Store, tenant: str, records: list[Json], today: datetime) -> list[Json]:
    wanted = {str(r.get("number")): r for r in records}
    period, year = today.strftime("%Y%m"), today.strftime("%Y")
    zero = {n: Decimal(0) for n in wanted}
    owed = dict(zero)
    open_without, open_with = dict(zero), dict(zero)
    period_without, period_with = dict(zero), dict(zero)
    year_without, year_with = dict(zero), dict(zero)
    modified = {n: str(r.get("lastModifiedDateTime") or "") for n, r in wanted.items()}
    for doc in _documents(store, tenant, "supplier_invoice", wanted):
        number = _party(doc, "supplier")
        modified[number] = max(modified[number], str(doc.get("lastModifiedDateTime") or ""))
        sign = -1 if doc.get("documentType") == "CreditAdj" else 1
        rate = _d(doc.get("exchangeRate")) or Decimal(1)
        without = sign * _d(doc.get("detailTotal"))
        with_vat = sign * _round(_d(doc.get("amount")) * rate)
        if doc.get("status") in UNRELEASED:
            open_without[number] += without
            open_with[number] += with_vat
            continue
        owed[number] += sign * _d(doc.get("balance"))
        financial = str(doc.get("financialPeriod") or "")
        if financial == period:
            period_without[number] += without
            period_with[number] += with_vat
        if financial[:4] == year:
            year_without[number] += without
            year_with[number] += with_vat
    return [
        {
            "supplier": _description(record),
            "balance": _money(owed[n]),
            "unreleasedPurchasesNotInApproval": _pair(open_without[n], open_with[n]),
            "totalSentForApproval": _pair(Decimal(0), Decimal(0)),
            "totalPurchaseInvoicePeriod": _pair(period_without[n], period_with[n]),
            "totalPurchaseInvoiceYear": _pair(year_without[n], year_with[n]),
            "lastModifiedDateTime": modified[n],
        }
        for n, record in wanted.items()
    ]


def _orders(store: Store, tenant: str, records: list[Json], today: datetime) -> list[Json]:
    wanted = {str(r.get("number")): r for r in records}
    totals: dict[str, dict[str, Decimal]] = {n: {} for n in wanted}
    modified = {n: str(r.get("lastModifiedDateTime") or "") for n, r in wanted.items()}
    for doc in _documents(store, tenant, "purchase_order", wanted):
        number = _party(doc, "supplier")
        modified[number] = max(modified[number], str(doc.get("lastModifiedDateTime") or ""))
        prefix = _PO_STATES.get(str(doc.get("status")))
        if prefix is None:
            continue
        for total, name in (("orderTotal", "OrderTotal"), ("lineTotal", "LineTotal")):
            key = f"total{prefix}{name}"
            totals[number][key] = totals[number].get(key, Decimal(0)) + _d(doc.get(total))
    keys = [
        f"total{prefix}{name}"
        for prefix in _PO_STATES.values()
        for name in ("OrderTotal", "LineTotal")
    ]
    return [
        {
            "supplier": _description(record),
            **{key: _money(totals[n].get(key, Decimal(0))) for key in keys},
            "lastModifiedDateTime": modified[n],
        }
        for n, record in wanted.items()
    ]


_BALANCES: dict[str, Callable[[Store, str, list[Json], datetime], list[Json]]] = {
    "customer": _customers,
    "balance": _suppliers,
    "pobalance": _orders,
}


# ------------------------------------------------------------- helpers


def _documents(store: Store, tenant: str, kind: str, parties: Mapping[str, Json]) -> Iterable[Json]:
    """The documents of ``kind`` of these customers or suppliers: found by the
    list index for one party, read whole for many."""
    field = "supplier" if kind in ("supplier_invoice", "purchase_order") else "customer"
    if len(parties) == 1:
        (number,) = parties
        _, docs = store.page(tenant, kind, [(field, "=", number.casefold())], 0, 1 << 30)
        return [d for d in docs if _party(d, field) == number]
    return [d for d in store.all(tenant, kind) if _party(d, field) in parties]


def _party(doc: Mapping[str, Any], field: str) -> str:
    ref = doc.get(field)
    return str(ref.get("number")) if isinstance(ref, dict) else ""


def _description(record: Mapping[str, Any]) -> Json:
    out: Json = {}
    if isinstance(record.get("internalId"), int):
        out["internalId"] = record["internalId"]
    out["number"] = str(record.get("number"))
    if record.get("name") is not None:
        out["name"] = record["name"]
    return out


def _modified(rows: list[Json], lq: Mapping[str, str]) -> list[Json]:
    """The rows that pass ``lastModifiedDateTime`` with its condition."""
    given = lq.get("lastmodifieddatetime")
    condition = lq.get("lastmodifieddatetimecondition")
    if given is None and condition is None:
        return rows
    if given is None or condition is None:
        raise Refused(
            400, "lastModifiedDateTime and lastModifiedDateTimeCondition must be given together."
        )
    condition = condition.strip()
    if condition not in _CONDITIONS:
        raise Refused(400, f"lastModifiedDateTimeCondition '{condition}' is not one of > >= < <=.")
    try:
        wanted = datetime.fromisoformat(given.strip()).replace(tzinfo=None)
    except ValueError:
        raise Refused(400, f"'lastModifiedDateTime' is not a valid date: '{given}'.") from None

    def passes(row: Json) -> bool:
        text = row.get("lastModifiedDateTime", row.get("lastModified")) or ""
        try:
            have = datetime.fromisoformat(str(text)).replace(tzinfo=None)
        except ValueError:
            return False
        return {
            ">": have > wanted,
            ">=": have >= wanted,
            "<": have < wanted,
            "<=": have <= wanted,
        }[condition]

    return [row for row in rows if passes(row)]


def _positive(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise Refused(400, f"{name} must be a whole number.") from None
    if value < 1:
        raise Refused(400, f"{name} must be 1 or more.")
    return value


def _d(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> float:
    return float(_round(value))


def _pair(without: Decimal, with_vat: Decimal) -> Json:
    return {"withoutVat": _money(without), "withVat": _money(with_vat)}
