"""The sandbox's document model: what POST, PUT and release do to a stored
document, and what GET returns.

Pure Python, no HTTP and no storage. A stored document *is* the flat read DTO
of the official spec (``CustomerDto``, ``CustomerInvoiceDto``, ...) exactly as
GET returns it, so the server stores and serves what these functions return.
Every key emitted exists in the spec's read DTO (``tests/test_sandbox_documents.py``
checks this for every bundled sample).

API::

    BusinessError(Exception)          # Visma-style text; the server answers
                                      # 400 {"message": "VismaId: <uuid>. <str(exc)>"}
    Kind                              # one of the seven kinds (see KINDS)
    KINDS: dict[str, Kind]            # by Kind.name
    kind_for_collection(segment) -> Kind          # path segment, any case; KeyError if none
    create(kind, body, *, number, now, lookup, check=None) -> dict  # POST
    update(kind, stored, body, *, now, lookup, check=None) -> dict  # PUT (partial)
    release(kind, stored, *, now) -> dict                  # action/release
    delete(kind, stored)                                   # DELETE (BusinessError: refused)
    reverse(kind, stored, *, note_kind, number, now) -> dict  # action/reverse: the new note
    void(kind, stored, *, now) -> dict                     # action/voidinvoice
    applied_to(note) -> [(docType, number)]                # what a released note settles
    settle(note_kind, note, kind, target, *, now) -> (note, target)  # its application
    list_filters(kind) -> dict[str, Filter]                # one list query parameter each
    matches(kind, doc, query) -> bool                      # all parameters of a list query
    index_entries(kind, doc) -> [(name, value)]            # what a store indexes of a doc
    conditions(kind, query) -> [(name, operator, value)]   # a list query, for that index
    passes(entries, conditions) -> bool                    # matches() on those two

``body`` is the request DTO as sent (values wrapped as ``{"value": x}``);
``number`` is the document number the server chose; ``now`` is a naive UTC
datetime; ``lookup(kind_name, number)`` returns another stored document (a
customer or supplier) or None; ``check(kind, doc)`` lists what the new
document refers to that the company lacks (an item, a VAT code, a closed
period...: :mod:`importer.sandbox.references`), each a sentence, and any
makes a BusinessError. No function mutates its arguments.

What it does, following the spec and the Visma docs:

- Request fields become read fields under the read DTO's names (e.g.
  ``customerNumber`` -> ``customer: {number, name}``, ``vatCodeId`` ->
  ``vatCode: {id}``, ``billingAddress`` -> ``invoiceAddress`` with
  ``country: {id}``, PO ``orderNumber`` -> ``orderNbr`` and line ``lineNumber``
  -> ``lineNbr``). Request fields without a read counterpart are dropped
  (``overrideNumberSeries``, ``validateLineDetails``, customer ``note``...).
- Lines: ``operation`` Insert (also when absent), Update or Delete. Create
  accepts only Insert. Insert takes the given ``lineNumber`` when it is free,
  else the highest number + 1 (a number deleted in the same request counts,
  so it is not reused); Update and Delete need an existing ``lineNumber``. PUT is
  partial for header fields, nested objects and lines alike; ``{"value": null}``
  clears a field; the number field (and a supplier invoice's documentType)
  cannot be changed and is ignored.
- Computed: status (customer documents and supplier invoices Hold/Balanced,
  release -> Open; purchase orders Hold/Open; customers and suppliers Active
  unless given), line amounts (quantity x unit price - discount, discount from
  percent unless an amount is sent), totals, balance, documentType, periods
  and document date defaults, created/modified times, ``timeStamp`` (the ETag)
  on every kind (the spec has it on supplier, supplier invoice and purchase
  order; the live API, after release notes 10.64-10.73, on customers and
  customer documents too), ``attachments: []``.
  Amounts ``...InCurrency`` are in the document currency, the plain ones in
  base currency (document amount x ``exchangeRate``). VAT is known only from
  explicit tax detail lines (the sandbox does not compute VAT from the
  lines' VAT codes), else 0.
- Taking back (the undo of a run): DELETE of a document on hold or balanced;
  the reverse of an open, unpaid customer invoice (a credit note, applied to
  it when released) or supplier invoice (a debit adjustment); the void of an
  open, unpaid supplier invoice.
- Business rules raise BusinessError: the customer or supplier must exist, a
  line needs an item or a description, a released document cannot be changed,
  a document on hold cannot be released, and whatever ``check`` finds.
"""

from __future__ import annotations

import base64
import contextlib
import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

Json = dict[str, Any]
Lookup = Callable[[str, str], dict[str, Any] | None]
Filter = Callable[[dict[str, Any], str], bool]
Check = Callable[["Kind", dict[str, Any]], list[str]]

__all__ = [
    "INDEX_VERSION",
    "KINDS",
    "OPERATORS",
    "BusinessError",
    "Check",
    "Filter",
    "Kind",
    "Lookup",
    "applied_to",
    "conditions",
    "create",
    "delete",
    "index_entries",
    "kind_for_collection",
    "list_filters",
    "matches",
    "passes",
    "release",
    "reverse",
    "settle",
    "update",
    "void",
]


class BusinessError(Exception):
    """A rule of the ERP said no. ``str(exc)`` is Visma's text after the
    VismaId, e.g. "Error creating document. Error: Customer '10099' cannot be
    found in the system."."""


class _Invalid(Exception):
    """Internal: the bare reason; the public functions add Visma's prefix."""


@dataclass(frozen=True)
class Kind:
    """One of the seven document kinds."""

    name: str  # "customer", "customer_invoice", ...
    title: str  # for messages: "Customer", "Invoice", ...
    collection: str  # path segment as the spec spells it: "customerinvoice", ...
    number_field: str  # request field with the number: number/referenceNumber/orderNumber
    read_number: str  # read field with the number: number/referenceNumber/orderNbr
    lines: str | None  # request line array: invoiceLines/lines/None
    read_lines: str | None  # read line array
    line_number: str | None  # request line number field: lineNumber
    read_line_number: str | None  # read line number field: lineNumber/lineNbr
    etag: bool  # carries timeStamp (ETag, If-Match)
    releasable: bool  # has action/release
    attachable: bool  # has .../{number}/attachment
    read_dto: str  # the spec's read schema
    update_dto: str  # the spec's request schema
    deletable: bool = False  # has DELETE /v1/<collection>/{number}


def _kind(
    name: str, title: str, collection: str, number: str, lines: str | None, dto: str, **flags: bool
) -> Kind:
    read_number, read_line_number = (
        ("orderNbr", "lineNbr") if number == "orderNumber" else (number, "lineNumber")
    )
    return Kind(
        name=name,
        title=title,
        collection=collection,
        number_field=number,
        read_number=read_number,
        lines=lines,
        read_lines=lines,
        line_number="lineNumber" if lines else None,
        read_line_number=read_line_number if lines else None,
        etag=flags.get("etag", False),
        releasable=flags.get("releasable", False),
        attachable=flags.get("attachable", False),
        read_dto=f"{dto}Dto",
        update_dto=f"{dto}UpdateDto",
        deletable=flags.get("deletable", False),
    )


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind("customer", "Customer", "customer", "number", None, "Customer", etag=True),
        _kind("supplier", "Supplier", "supplier", "number", None, "Supplier", etag=True),
        _kind(
            "customer_invoice",
            "Invoice",
            "customerinvoice",
            "referenceNumber",
            "invoiceLines",
            "CustomerInvoice",
            etag=True,
            releasable=True,
            attachable=True,
            deletable=True,  # the spec's DELETE /v1/<collection>/{number}
        ),
        _kind(
            "customer_credit_note",
            "Credit note",
            "customerCreditNote",
            "referenceNumber",
            "lines",
            "CustomerCreditNote",
            etag=True,
            releasable=True,
            attachable=True,
            deletable=True,  # the spec's DELETE /v1/<collection>/{number}
        ),
        _kind(
            "customer_debit_note",
            "Debit note",
            "customerDebitNote",
            "referenceNumber",
            "lines",
            "CustomerDebitNote",
            etag=True,
            releasable=True,
            attachable=True,
        ),
        _kind(
            "supplier_invoice",
            "Supplier invoice",
            "supplierInvoice",
            "referenceNumber",
            "invoiceLines",
            "SupplierInvoice",
            etag=True,
            releasable=True,
            attachable=True,
            deletable=True,  # the spec's DELETE /v1/<collection>/{number}
        ),
        _kind(
            "purchase_order",
            "Purchase order",
            "purchaseorder",
            "orderNumber",
            "lines",
            "PurchaseOrder",
            etag=True,
        ),
    )
}

_BY_COLLECTION = {k.collection.lower(): k for k in KINDS.values()}


def kind_for_collection(segment: str) -> Kind:
    """The kind served at ``/v1/<segment>`` (case-insensitive); KeyError if none."""
    return _BY_COLLECTION[segment.lower()]


# ------------------------------------------------------------- converters

_Conv = Callable[[Any, str], Any]


def _text(v: Any, f: str) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, dict, list)):
        raise _Invalid(f"'{f}' must be a text.")
    return str(v)


def _dec(v: Any, f: str) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise _Invalid(f"'{f}' must be a number.")
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise _Invalid(f"'{f}' must be a number, not '{v}'.") from None
    if not d.is_finite():
        raise _Invalid(f"'{f}' must be a number, not '{v}'.")
    return d


def _num(v: Any, f: str) -> float:
    return float(_dec(v, f))


def _int(v: Any, f: str) -> int:
    d = _dec(v, f)
    if d != d.to_integral_value():
        raise _Invalid(f"'{f}' must be a whole number, not '{v}'.")
    return int(d)


def _bool(v: Any, f: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    raise _Invalid(f"'{f}' must be true or false.")


def _parse_datetime(v: Any, f: str) -> datetime:
    if not isinstance(v, str):
        raise _Invalid(f"'{f}' must be a date.")
    try:
        parsed = datetime.fromisoformat(v.strip())
    except ValueError:
        raise _Invalid(f"'{f}' is not a valid date: '{v}'.") from None
    return parsed.replace(tzinfo=None)


def _date(v: Any, f: str) -> str:
    """A document date: Visma keeps the day only."""
    return _parse_datetime(v, f).strftime("%Y-%m-%dT00:00:00")


def _datetime(v: Any, f: str) -> str:
    return _parse_datetime(v, f).strftime("%Y-%m-%dT%H:%M:%S")


def _ref(key: str, conv: _Conv = _text) -> _Conv:
    """A plain value that the read DTO shows as a small object, e.g. {"id": v}."""
    return lambda v, f: {key: conv(v, f)}


def _segments(v: Any, f: str) -> Json:
    """SegmentUpdateDto[] -> the read subaccount {subaccountNumber, segments}."""
    if not isinstance(v, list):
        raise _Invalid(f"'{f}' must be a list of segments.")
    pairs: list[tuple[int, str]] = []
    for s in v:
        if not isinstance(s, dict) or "segmentId" not in s:
            raise _Invalid(f"'{f}': every segment needs a segmentId and a segmentValue.")
        pairs.append(
            (
                _int(s["segmentId"], f"{f}.segmentId"),
                _text(s.get("segmentValue") or "", f"{f}.segmentValue"),
            )
        )
    pairs.sort()
    return {
        "subaccountNumber": "-".join(value for _, value in pairs),
        "segments": [{"segmentId": i, "segmentValue": value} for i, value in pairs],
    }


def _nested(fields: Mapping[str, tuple[str, _Conv]]) -> _Conv:
    def conv(v: Any, f: str) -> Json:
        if not isinstance(v, dict):
            raise _Invalid(f"'{f}' must be an object.")
        out: Json = {}
        for key, raw in v.items():
            spec = fields.get(key)
            if spec is not None and raw is not None:
                out[spec[0]] = spec[1](raw, f"{f}.{key}")
        return out

    return conv


_ADDRESS: dict[str, tuple[str, _Conv]] = {
    **{k: (k, _text) for k in ("addressLine1", "addressLine2", "addressLine3")},
    "postalCode": ("postalCode", _text),
    "city": ("city", _text),
    "countryId": ("country", _ref("id")),
    "county": ("county", _ref("id")),
}
_address = _nested(_ADDRESS)
_doc_address = _nested({**_ADDRESS, "overrideAddress": ("overrideAddress", _bool)})
_CONTACT = ("attention", "email", "web", "phone1", "phone2", "fax")
_contact = _nested({"name": ("name", _text), **{k: (k, _text) for k in _CONTACT}})
# Customer documents show the contact's name as businessName, without web/phone2/fax.
_doc_contact = _nested(
    {
        "overrideContact": ("overrideContact", _bool),
        "name": ("businessName", _text),
        **{k: (k, _text) for k in ("attention", "email", "phone1")},
    }
)
_po_contact = _nested(
    {
        "overrideContact": ("overrideContact", _bool),
        "name": ("name", _text),
        **{k: (k, _text) for k in _CONTACT},
    }
)


def _gl(v: Any, f: str) -> Json:
    """glAccounts: accounts -> {number}; subaccounts as segments or {id}."""
    if not isinstance(v, dict):
        raise _Invalid(f"'{f}' must be an object.")
    out: Json = {}
    for key, raw in v.items():
        if raw is None:
            continue
        if key.lower().endswith("subaccount"):
            out[key] = _segments(raw, f"{f}.{key}") if isinstance(raw, list) else {"id": raw}
        else:
            out[key] = {"number": _text(raw, f"{f}.{key}")}
    return out


def _attributes(v: Any, f: str) -> list[Json]:
    if not isinstance(v, list):
        raise _Invalid(f"'{f}' must be a list.")
    return [
        {"id": _text(a.get("attributeId"), f), "value": _text(a.get("attributeValue") or "", f)}
        for a in v
        if isinstance(a, dict) and a.get("attributeId") is not None
    ]


def _tax_details(v: Any, f: str) -> list[Json]:
    if not isinstance(v, list):
        raise _Invalid(f"'{f}' must be a list.")
    out = []
    for t in v:
        if not isinstance(t, dict):
            raise _Invalid(f"'{f}' must be a list of objects.")
        row: Json = {}
        if t.get("taxId") is not None:
            row["taxId"] = _text(t["taxId"], f"{f}.taxId")
        for k in ("taxableAmount", "vatAmount"):
            if t.get(k) is not None:
                row[k] = _num(t[k], f"{f}.{k}")
        out.append(row)
    return out


def _ap_document_type(v: Any, f: str) -> str:
    # The request enum says "Payment" where the read enum says "Check".
    t = _text(v, f)
    return "Check" if t == "Payment" else t


def _period_yyyymm(v: Any, f: str) -> str:
    """Request periods are MMYYYY; the customer-ledger read DTOs say YYYYMM."""
    t = _text(v, f).strip()
    if len(t) == 6 and t.isdigit() and 1 <= int(t[:2]) <= 12:
        return t[2:] + t[:2]
    return t


@dataclass(frozen=True)
class _F:
    read: str
    conv: _Conv
    merge: bool = False  # nested object: PUT changes only the keys it sends


def _same(conv: _Conv, names: str) -> dict[str, _F]:
    """Fields with the same name in the request and the read DTO."""
    return {n: _F(n, conv) for n in names.split()}


# ------------------------------------------------------------- field maps
# request field -> read field, converter. Request fields not listed here have
# no read counterpart and are dropped.

_CUSTOMER: dict[str, _F] = {
    **_same(
        _text,
        "name status accountReference currencyId creditVerification statementType"
        " vatRegistrationId corporateId gln",
    ),
    **_same(_num, "creditLimit"),
    **_same(_int, "creditDaysPastDue numberOfEmployees"),
    **_same(
        _bool,
        "printInvoices acceptAutoInvoices sendInvoicesByEmail sendDunningLettersViaEMail"
        " printDunningLetters printStatements sendStatementsByEmail printMultiCurrencyStatements"
        " invoiceToDefaultLocation excludeDebtCollection",
    ),
    "customerClassId": _F("customerClass", _ref("id")),
    "creditTermsId": _F("creditTerms", _ref("id")),
    "priceClassId": _F("priceClass", _ref("id")),
    "vatZoneId": _F("vatZone", _ref("id")),
    "glAccounts": _F("glAccounts", _gl, merge=True),
    "attributeLines": _F("attributes", _attributes),
    **{
        a: _F(a, _address, merge=True) for a in ("mainAddress", "invoiceAddress", "deliveryAddress")
    },
    **{
        c: _F(c, _contact, merge=True) for c in ("mainContact", "invoiceContact", "deliveryContact")
    },
}

_SUPPLIER: dict[str, _F] = {
    **_same(
        _text,
        "name status accountReference documentLanguage currencyId cashAccount"
        " paymentRefDisplayMask vatRegistrationId corporateId chargeBearer accountUsedForPayment"
        " paymentBy retainageCashAccountID note naceCode",
    ),
    **_same(_int, "numberOfEmployees paymentLeadTime"),
    **_same(_num, "retainagePct"),
    **_same(
        _bool,
        "currencyOverride currencyRateOverride paySeparately retainageApply landedCostSupplier",
    ),
    "supplierClassId": _F("supplierClass", _ref("id")),
    "creditTermsId": _F("creditTerms", _ref("id")),
    "paymentMethodId": _F("paymentMethod", _ref("id")),
    "vatZoneId": _F("vatZone", _ref("id")),
    "glAccounts": _F("glAccounts", _gl, merge=True),
    "attributeLines": _F("attributes", _attributes),
    **{a: _F(a, _address, merge=True) for a in ("mainAddress", "remitAddress", "supplierAddress")},
    **{c: _F(c, _contact, merge=True) for c in ("mainContact", "remitContact", "supplierContact")},
}

_AR_HEADER: dict[str, _F] = {
    **_same(
        _text,
        "currencyId paymentReference customerRefNumber externalReference invoiceText note"
        " cashAccount customerProject",
    ),
    **_same(_date, "documentDate origInvoiceDate documentDueDate cashDiscountDate"),
    **_same(_period_yyyymm, "postPeriod financialPeriod"),
    **_same(_num, "exchangeRate"),
    **_same(_int, "salesPersonID"),
    **_same(_bool, "hold dontPrint dontEmail revoked"),
    "creditTermsId": _F("creditTerms", _ref("id")),
    "paymentMethodId": _F("paymentMethod", _ref("id")),
    "locationId": _F("location", _ref("id")),
    "branchNumber": _F("branchNumber", _ref("number")),
    "project": _F("project", _ref("id")),
    "salesperson": _F("salesPerson", _ref("id")),
    "customerVatZoneId": _F("customerVatZone", _ref("id")),
    "contact": _F("contact", _ref("id", _int)),
    "invoiceAddress": _F("invoiceAddress", _doc_address, merge=True),
    "invoiceContact": _F("invoiceContact", _doc_contact, merge=True),
    "taxDetailLines": _F("taxDetails", _tax_details),
    "taxDetails": _F("taxDetails", _tax_details),
}
_INVOICE_HEADER: dict[str, _F] = {
    **_AR_HEADER,
    **_same(_date, "startDate endDate"),
    **_same(_text, "accountingCostRef originatorDocRef contractDocRef"),
    **_same(_bool, "sendToAutoInvoice excludeDebtCollection"),
    "billingAddress": _F("invoiceAddress", _doc_address, merge=True),
    "directDebitMandateId": _F("directDebitMandate", _ref("id")),
}
_CREDIT_NOTE_HEADER: dict[str, _F] = {**_AR_HEADER, **_same(_bool, "sendToAutoInvoice")}

_AR_LINE: dict[str, _F] = {
    **_same(
        _text, "inventoryNumber description uom discountCode salesperson deferralCode note itemType"
    ),
    **_same(
        _num,
        "quantity unitPriceInCurrency manualAmountInCurrency discountPercent"
        " discountAmountInCurrency",
    ),
    **_same(_bool, "manualDiscount"),
    **_same(_int, "deferralSchedule"),
    **_same(_date, "termStartDate termEndDate"),
    "accountNumber": _F("account", _ref("number")),
    "subaccount": _F("subaccount", _segments),
    "vatCodeId": _F("vatCode", _ref("id")),
    "branchNumber": _F("branchNumber", _ref("number")),
}
_INVOICE_LINE = {
    **_AR_LINE,
    **_same(_date, "startDate endDate"),
    "taskId": _F("projectTask", _ref("id")),
}
_CREDIT_NOTE_LINE = {**_AR_LINE, "taskId": _F("projectTask", _ref("id"))}

_AP_HEADER: dict[str, _F] = {
    **_same(
        _text,
        "supplierReference description note currencyId paymentRefNo paymentMessage cashAccount"
        " taxCalculationMode postPeriod",
    ),
    **_same(_date, "date origInvoiceDate dueDate cashDiscountDate payDate"),
    **_same(_period_yyyymm, "financialPeriod"),
    **_same(_num, "exchangeRate roundingDiffInCurrency"),
    **_same(_bool, "hold paySelected"),
    "applyRetainage": _F("retainageApply", _bool),
    "locationId": _F("location", _ref("id")),
    "creditTermsId": _F("creditTerms", _ref("id")),
    "branchNumber": _F("branchNumber", _ref("number")),
    "supplierTaxZone": _F("supplierTaxZone", _ref("id")),
    "paymentMethod": _F("paymentMethod", _ref("id")),
    "taxDetailLines": _F("taxDetailLines", _tax_details),
    "approvalDetails": _F(
        "approvalDetails",
        _nested({"attachmentID": ("attachmentID", _text), "comment": ("comment", _text)}),
        merge=True,
    ),
}


def _link_line(v: Any, f: str) -> Json:
    if not isinstance(v, dict):
        raise _Invalid(f"'{f}' must be an object.")
    receipt = v.get("purchaseType") == "PurchaseReceipt"
    out: Json = {}
    if v.get("purchaseNumber") is not None:
        out["poReceiptNbr" if receipt else "poNumber"] = _text(v["purchaseNumber"], f)
    if v.get("purchaseLineNbr") is not None:
        out["poReceiptLineNbr" if receipt else "poLineNr"] = _int(v["purchaseLineNbr"], f)
    return out


_AP_LINE: dict[str, _F] = {
    **_same(
        _text,
        "inventoryNumber transactionDescription uom deferralCode note splitHierarchy"
        " externalInventoryId",
    ),
    **_same(
        _num,
        "quantity unitCostInCurrency costInCurrency discountPercent discountAmountInCurrency"
        " discountUnitCostInCurrency retainagePct curyRetainageAmt",
    ),
    **_same(_bool, "manualDiscount"),
    **_same(_int, "deferralSchedule"),
    **_same(_date, "termStartDate termEndDate"),
    "accountNumber": _F("account", _ref("number")),
    "subaccount": _F("subaccount", _segments),
    "prebookAccountNumber": _F("prebookAccount", _ref("number")),
    "prebookSubaccount": _F("prebookSubaccount", _segments),
    "vatCodeId": _F("vatCode", _ref("id")),
    "branch": _F("branchNumber", _ref("number")),
    "branchNumber": _F("branchNumber", _ref("number")),
    "projectId": _F("project", _ref("id")),
    "projectTaskId": _F("projectTask", _ref("id")),
    "linkLine": _F("", _link_line),  # spreads into poNumber/poLineNr/poReceipt...
}

_CUSTOM = {
    **_same(_text, "customStr1 customStr2 customStr3 customStr4 customStr5"),
    **_same(_num, "customDec1 customDec2"),
    **_same(_int, "customInt1 customInt2"),
    **_same(_datetime, "customDateTimeUTC1"),
}
_PO_HEADER: dict[str, _F] = {
    **_same(
        _text,
        "orderType description currency supplierRef shippingDestinationType fobPoint shipVia"
        " shipTerms note",
    ),
    **_same(_date, "date promisedOn"),
    **_same(_num, "exchangeRate controlTotal"),
    **_same(_bool, "hold dontPrint dontEmail"),
    **_CUSTOM,
    "location": _F("location", _ref("id")),
    "owner": _F("owner", _ref("id")),
    "branch": _F("branch", _ref("number")),
    "terms": _F("terms", _ref("id")),
    "supplierVatZone": _F("supplierVatZone", _ref("id")),
    "shipTo": _F("shipTo", _ref("number")),
    "shippingLocation": _F("shippingLocation", _ref("id")),
    "shippingAddress": _F("shippingAddress", _doc_address, merge=True),
    "remitAddress": _F("remitAddress", _doc_address, merge=True),
    "shippingContact": _F("shippingContact", _po_contact, merge=True),
    "remitContact": _F("remitContact", _po_contact, merge=True),
}
_PO_LINE: dict[str, _F] = {
    **_same(_text, "lineType lineDescription uom alternateId receiptAction note"),
    **_same(
        _num,
        "orderQty unitCost extCost discountAmount discountPercent amount minReceipt maxReceipt"
        " completeOn",
    ),
    **_same(_bool, "manualDiscount"),
    **_same(_date, "requested promised"),
    **_CUSTOM,
    "branch": _F("branch", _ref("number")),
    "inventory": _F("inventory", _ref("number")),
    "warehouse": _F("warehouse", _ref("id")),
    "discountCode": _F("discountCode", _ref("number")),
    "taxCategory": _F("taxCategory", _ref("number")),
    "account": _F("account", _ref("number")),
    "sub": _F("sub", _segments),
    "project": _F("project", _ref("id")),
    "projectTask": _F("projectTask", _ref("id")),
}


@dataclass(frozen=True)
class _Party:
    """A request field naming a customer or supplier, shown as a reference object."""

    field: str  # request field
    read: str  # read field
    kind: str  # "customer" | "supplier"
    required: bool
    internal_id: bool = False  # the read object has internalId


@dataclass(frozen=True)
class _Calc:
    """Line arithmetic, in the kind's read field names."""

    qty: str
    price: str
    pct: str  # discount percent
    disc: str  # discount amount
    net: str  # line amount after discount
    manual: str | None  # a field that, when set, is the line amount
    gross: str | None  # extended amount before discount (PO extCost)
    base_price: str  # the unit price in base currency
    base_net: str | None
    base_disc: str | None
    item: str  # a line needs an item or a text
    text: str


_AR_CALC = _Calc(
    qty="quantity",
    price="unitPriceInCurrency",
    pct="discountPercent",
    disc="discountAmountInCurrency",
    net="amountInCurrency",
    manual="manualAmountInCurrency",
    gross=None,
    base_price="unitPrice",
    base_net="amount",
    base_disc="discountAmount",
    item="inventoryNumber",
    text="description",
)
_AP_CALC = _Calc(
    qty="quantity",
    price="unitCostInCurrency",
    pct="discountPercent",
    disc="discountAmountInCurrency",
    net="costInCurrency",
    manual=None,
    gross=None,
    base_price="unitCost",
    base_net="cost",
    base_disc="discountAmount",
    item="inventoryNumber",
    text="transactionDescription",
)
_PO_CALC = _Calc(
    qty="orderQty",
    price="unitCost",
    pct="discountPercent",
    disc="discountAmount",
    net="amount",
    manual=None,
    gross="extCost",
    base_price="unitCostInBaseCurrency",
    base_net=None,
    base_disc=None,
    item="inventory",
    text="lineDescription",
)


@dataclass(frozen=True)
class _Model:
    family: str  # "party" | "ar" | "ap" | "po"
    noun: str  # for the message prefix: "customer", "supplier", "document"
    header: Mapping[str, _F]
    parties: tuple[_Party, ...]
    line: Mapping[str, _F] = field(default_factory=dict)
    calc: _Calc | None = None
    created: bool = True  # the read DTO has createdDateTime
    attachments: bool = True  # the read DTO has attachments
    document_type: str | None = None  # fixed documentType
    date: str | None = None  # the document date field (defaults to today)
    post_period_yyyymm: bool = True  # read postPeriod is YYYYMM (else MMYYYY)


def _ar_model(header: Mapping[str, _F], line: Mapping[str, _F], document_type: str) -> _Model:
    parties = (
        _Party("customerNumber", "customer", "customer", True),
        _Party("childCustomerNumber", "childRecord", "customer", False),
    )
    return _Model(
        "ar", "document", header, parties, line, _AR_CALC, True, True, document_type, "documentDate"
    )


_MODELS: dict[str, _Model] = {
    "customer": _Model(
        "party",
        "customer",
        _CUSTOMER,
        (_Party("parentRecordNumber", "parentRecord", "customer", False),),
        attachments=False,
    ),
    "supplier": _Model(
        "party",
        "supplier",
        _SUPPLIER,
        (_Party("parentRecordNumber", "parentRecord", "supplier", False),),
        created=False,
        attachments=False,
    ),
    "customer_invoice": _ar_model(_INVOICE_HEADER, _INVOICE_LINE, "Invoice"),
    "customer_credit_note": _ar_model(_CREDIT_NOTE_HEADER, _CREDIT_NOTE_LINE, "CreditNote"),
    "customer_debit_note": _ar_model(_AR_HEADER, _AR_LINE, "DebitNote"),
    "supplier_invoice": _Model(
        "ap",
        "document",
        _AP_HEADER,
        (_Party("supplierNumber", "supplier", "supplier", True, internal_id=True),),
        _AP_LINE,
        _AP_CALC,
        date="date",
        post_period_yyyymm=False,
    ),
    "purchase_order": _Model(
        "po",
        "document",
        _PO_HEADER,
        (_Party("supplier", "supplier", "supplier", True, internal_id=True),),
        _PO_LINE,
        _PO_CALC,
        created=False,
        attachments=False,
        date="date",
    ),
}

_UNRELEASED = ("Hold", "Balanced")

# -------------------------------------------------------------- the API


def create(
    kind: Kind,
    body: Mapping[str, Any],
    *,
    number: str,
    now: datetime,
    lookup: Lookup,
    check: Check | None = None,
) -> Json:
    """The stored document (= read DTO) for a POST of ``body`` numbered ``number``.
    ``check(kind, doc)``: what the document refers to that the company lacks
    (:meth:`importer.sandbox.references.References.problems`); any → BusinessError."""
    model = _MODELS[kind.name]
    verb = "inserting the" if model.family == "party" else "creating"
    try:
        return _checked(
            kind, _apply(kind, model, {}, _unwrap(body), now, lookup, number=number), check
        )
    except _Invalid as exc:
        raise BusinessError(f"Error {verb} {model.noun}. Error: {exc}") from None


def update(
    kind: Kind,
    stored: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    now: datetime,
    lookup: Lookup,
    check: Check | None = None,
) -> Json:
    """The stored document after a PUT of ``body`` (partial: what is not sent stays)."""
    model = _MODELS[kind.name]
    verb = "updating the" if model.family == "party" else "updating"
    try:
        if model.family in ("ar", "ap") and stored.get("status") not in _UNRELEASED:
            raise _Invalid(
                f"The document has status '{stored.get('status')}' and cannot be changed."
            )
        doc = _apply(kind, model, copy.deepcopy(dict(stored)), _unwrap(body), now, lookup)
        return _checked(kind, doc, check)
    except _Invalid as exc:
        raise BusinessError(f"Error {verb} {model.noun}. Error: {exc}") from None


_MAX_PROBLEMS = 10


def _checked(kind: Kind, doc: Json, check: Check | None) -> Json:
    problems = check(kind, doc) if check is not None else []
    if problems:
        more = len(problems) - _MAX_PROBLEMS
        text = " ".join(problems[:_MAX_PROBLEMS])
        raise _Invalid(text + (f" (and {more} more)" if more > 0 else ""))
    return doc


def release(kind: Kind, stored: Mapping[str, Any], *, now: datetime) -> Json:
    """action/release: a Balanced customer document or supplier invoice becomes
    Open. ValueError for a kind without that action."""
    if not kind.releasable:
        raise ValueError(f"{kind.name} has no release action")
    status = stored.get("status")
    number = stored.get(kind.read_number)
    if status == "Hold":
        raise BusinessError(
            f"Error releasing document. Error: {kind.title} '{number}' is on hold "
            "and cannot be released."
        )
    if status != "Balanced":
        raise BusinessError(
            f"Error releasing document. Error: {kind.title} '{number}' has status "
            f"'{status}' and cannot be released."
        )
    doc = copy.deepcopy(dict(stored))
    doc["status"] = "Open"
    _stamp(kind, _MODELS[kind.name], doc, now, creating=False)
    return doc


# --------------------------------------------------- taking documents back
# The spec gives the endpoints (DELETE on customer invoices, credit notes and
# supplier invoices; customerinvoice .../action/reverse; supplierInvoice
# .../{documentType}/{n}/action/{reverse|voidinvoice}) and what they answer,
# not the statuses they take. The rules below are [INFERRED] from Visma's
# screens (user-needs.md §2.1: only a document on hold or balanced is deleted)
# and from the Acumatica ledger Visma.net is built on: only a released
# document is reversed or voided, and only while nothing has been paid
# against it (its balance is still its amount).


def delete(kind: Kind, stored: Mapping[str, Any]) -> None:
    """DELETE: only a document never released (Hold or Balanced) goes.
    BusinessError otherwise; ValueError for a kind the spec cannot delete."""
    if not kind.deletable:
        raise ValueError(f"{kind.name} has no DELETE")
    status = stored.get("status")
    if status not in _UNRELEASED:
        raise BusinessError(
            f"Error deleting document. Error: {kind.title} '{stored.get(kind.read_number)}' "
            f"has status '{status}' and cannot be deleted; only a document on hold or "
            "balanced can be."
        )


def _reversible(kind: Kind, stored: Mapping[str, Any], verb: str) -> None:
    status = stored.get("status")
    number = stored.get(kind.read_number)
    if status != "Open":
        raise BusinessError(
            f"Error: {kind.title} '{number}' has status '{status}' and cannot be {verb}; "
            "only a released, open document can be."
        )
    # in the document's currency: a customer document's amountInCurrency, a
    # supplier invoice's amount
    amount = "amountInCurrency" if "amountInCurrency" in stored else "amount"
    if _d(stored, "balanceInCurrency") != _d(stored, amount):
        raise BusinessError(
            f"Error: {kind.title} '{number}' has been paid (balance "
            f"{stored.get('balanceInCurrency')} of {stored.get(amount)}) and cannot be "
            f"{verb}; reverse the payment first."
        )


# An invoice's read fields its reversing credit note takes over (both DTOs have them).
_NOTE_COPIES = (
    *("customer", "childRecord", "currencyId", "exchangeRate", "documentDate", "postPeriod"),
    *("financialPeriod", "creditTerms", "location", "branchNumber", "project", "salesPerson"),
    *("customerVatZone", "cashAccount", "invoiceText", "invoiceAddress", "invoiceContact"),
    *("taxDetails", "detailTotal", "detailTotalInCurrency", "vatTotal", "vatTotalInCurrency"),
    *("amount", "amountInCurrency"),
)
# Invoice line fields a credit note line has not (CustomerInvoiceLineDto only).
_INVOICE_ONLY_LINE = {f.read for f in _INVOICE_LINE.values()} - {
    f.read for f in _CREDIT_NOTE_LINE.values()
}


def reverse(
    kind: Kind, stored: Mapping[str, Any], *, note_kind: Kind, number: str, now: datetime
) -> Json:
    """``action/reverse`` of a released customer invoice: the credit note that
    takes it back, numbered ``number``: the invoice's customer, lines, VAT and
    amounts, ``Balanced``, applied to the invoice (``applications``); the
    application takes effect when the credit note is released (:func:`settle`).
    A supplier invoice's reverse gives a debit adjustment (``DebitAdj``) of the
    same kind. BusinessError for an invoice that is not open, or is paid."""
    _reversible(kind, stored, "reversed")
    if _MODELS[kind.name].family == "ap":
        doc = copy.deepcopy(dict(stored))
        for gone in ("createdDateTime", "lastModifiedDateTime", "timeStamp", "errorInfo"):
            doc.pop(gone, None)
        doc.update(referenceNumber=number, documentType="DebitAdj", hold=False, attachments=[])
    else:
        doc = {k: copy.deepcopy(stored[k]) for k in _NOTE_COPIES if k in stored}
        lines = stored.get(kind.read_lines or "") or []
        doc.update(
            referenceNumber=number,
            documentType="CreditNote",
            hold=False,
            origInvoiceDate=stored.get("documentDate"),
            attachments=[],
            applications=[
                {
                    "docType": stored.get("documentType", "Invoice"),
                    "refNbr": stored.get(kind.read_number),
                    "amountPaid": stored.get("amountInCurrency", stored.get("amount")),
                    "released": False,
                }
            ],
        )
        doc[note_kind.read_lines or "lines"] = [
            {k: copy.deepcopy(v) for k, v in line.items() if k not in _INVOICE_ONLY_LINE}
            for line in lines
        ]
    doc["status"] = "Balanced"
    doc["balance"] = doc.get("amount")
    doc["balanceInCurrency"] = doc.get("amountInCurrency", doc.get("amount"))
    _stamp(note_kind, _MODELS[note_kind.name], doc, now, creating=True)
    return doc


def void(kind: Kind, stored: Mapping[str, Any], *, now: datetime) -> Json:
    """``action/voidinvoice`` of a supplier invoice: a released one nothing was
    paid against becomes ``Voided``, its balance 0. BusinessError otherwise."""
    _reversible(kind, stored, "voided")
    doc = copy.deepcopy(dict(stored))
    doc.update(status="Voided", balance=0.0, balanceInCurrency=0.0)
    _stamp(kind, _MODELS[kind.name], doc, now, creating=False)
    return doc


def applied_to(note: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(document type, number) of each document a credit note is applied to
    and whose application waits for its release."""
    return [
        (str(a.get("docType")), str(a.get("refNbr")))
        for a in note.get("applications") or []
        if isinstance(a, dict) and not a.get("released")
    ]


def settle(
    note_kind: Kind,
    note: Mapping[str, Any],
    kind: Kind,
    target: Mapping[str, Any],
    *,
    now: datetime,
) -> tuple[Json, Json]:
    """A released credit note's application to ``target``: the amount applied
    comes off both balances, and a document whose balance reaches 0 is
    ``Closed``; the application is released on both. (note, target) after."""
    note_doc, doc = copy.deepcopy(dict(note)), copy.deepcopy(dict(target))
    return _settled(note_kind, note_doc, kind, doc, now)


def _settled(
    note_kind: Kind, note: Json, kind: Kind, target: Json, now: datetime
) -> tuple[Json, Json]:
    number = target.get(kind.read_number)
    paid = Decimal(0)
    for application in note.get("applications") or []:
        if application.get("refNbr") == number and not application.get("released"):
            application["released"] = True
            paid += _d(application, "amountPaid")
    target.setdefault("applications", []).append(
        {
            "docType": note.get("documentType"),
            "refNbr": note.get(note_kind.read_number),
            "amountPaid": float(paid),
            "released": True,
        }
    )
    for doc, doc_kind in ((note, note_kind), (target, kind)):
        left = max(_d(doc, "balanceInCurrency") - paid, Decimal(0))
        rate = _d(doc, "exchangeRate") or Decimal(1)
        doc["balanceInCurrency"] = float(_round(left))
        doc["balance"] = float(_round(left * rate))
        if left == 0:
            doc["status"] = "Closed"
        _stamp(doc_kind, _MODELS[doc_kind.name], doc, now, creating=False)
    return note, target


# ------------------------------------------------------------- internals


def _unwrap(node: Any) -> Any:
    """{"value": x} -> x, recursively."""
    if isinstance(node, dict):
        if len(node) == 1 and "value" in node:
            return _unwrap(node["value"])
        return {k: _unwrap(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unwrap(v) for v in node]
    return node


def _apply(
    kind: Kind,
    model: _Model,
    doc: Json,
    body: Any,
    now: datetime,
    lookup: Lookup,
    *,
    number: str | None = None,
) -> Json:
    if not isinstance(body, dict):
        raise _Invalid("The request body must be an object.")
    creating = number is not None
    if creating:
        doc[kind.read_number] = number
    _fields(doc, body, model.header)
    for party in model.parties:
        _party(doc, body, party, lookup, creating)
    if creating:
        _defaults(model, doc, body, now, lookup)
    if model.family == "party" and not doc.get("name"):
        raise _Invalid(f"'{model.noun.capitalize()} name' cannot be empty.")
    if kind.lines and kind.read_lines and kind.read_line_number and model.calc:
        raw_lines = body.get(kind.lines)
        if raw_lines is not None:
            if not isinstance(raw_lines, list):
                raise _Invalid(f"'{kind.lines}' must be a list.")
            _lines(kind, model, doc, raw_lines, creating)
        doc.setdefault(kind.read_lines, [])
        _totals(kind, model, doc)
    _status(model, doc)
    _stamp(kind, model, doc, now, creating)
    return doc


def _fields(target: Json, src: Mapping[str, Any], fields: Mapping[str, _F]) -> set[str]:
    """Apply the mapped request fields of ``src`` to ``target``; the read names set."""
    sent: set[str] = set()
    for key, raw in src.items():
        f = fields.get(key)
        if f is None:
            continue
        if f.read == "":  # spreads into several read fields
            if raw is not None:
                value = f.conv(raw, key)
                target.update(value)
                sent.update(value)
            continue
        sent.add(f.read)
        if raw is None:
            target.pop(f.read, None)
            continue
        value = f.conv(raw, key)
        old = target.get(f.read)
        if f.merge and isinstance(old, dict) and isinstance(value, dict):
            value = {**old, **value}
        target[f.read] = value
    return sent


def _party(
    doc: Json, body: Mapping[str, Any], party: _Party, lookup: Lookup, creating: bool
) -> None:
    label = party.kind.capitalize()
    if party.field not in body:
        if creating and party.required:
            if party.field == "supplier" and (body.get("gln") or body.get("vatRegistrationId")):
                raise _Invalid(
                    "The sandbox finds the supplier by its number only; send 'supplier'."
                )
            raise _Invalid(f"'{label}' cannot be empty.")
        return
    raw = body[party.field]
    if raw is None or raw == "":
        if party.required:
            raise _Invalid(f"'{label}' cannot be empty.")
        doc.pop(party.read, None)
        return
    number = _text(raw, party.field)
    found = lookup(party.kind, number)
    if found is None:
        raise _Invalid(f"{label} '{number}' cannot be found in the system.")
    ref: Json = {}
    if party.internal_id and isinstance(found.get("internalId"), int):
        ref["internalId"] = found["internalId"]
    ref["number"] = number
    if found.get("name") is not None:
        ref["name"] = found["name"]
    doc[party.read] = ref


def _defaults(
    model: _Model, doc: Json, body: Mapping[str, Any], now: datetime, lookup: Lookup
) -> None:
    """What Visma fills in on a new document when the request leaves it out."""
    if model.family == "party":
        doc.setdefault("status", "Active")
        return
    if model.document_type:
        doc["documentType"] = model.document_type
    elif model.family == "ap":
        given = body.get("documentType")
        doc["documentType"] = _ap_document_type(given, "documentType") if given else "Invoice"
    if model.family == "po":
        doc.setdefault("orderType", "RegularOrder")
    doc.setdefault("hold", False)
    if model.date:
        doc.setdefault(model.date, now.strftime("%Y-%m-%dT00:00:00"))
        day = datetime.fromisoformat(doc[model.date])
        if model.family in ("ar", "ap"):
            yyyymm, mmyyyy = day.strftime("%Y%m"), day.strftime("%m%Y")
            doc.setdefault("postPeriod", yyyymm if model.post_period_yyyymm else mmyyyy)
            doc.setdefault("financialPeriod", yyyymm)
    # Currency and terms come from the customer or supplier when not sent.
    party = model.parties[0]
    ref = doc.get(party.read)
    found = lookup(party.kind, ref["number"]) if isinstance(ref, dict) else None
    if found:
        currency, terms = (
            ("currency", "terms") if model.family == "po" else ("currencyId", "creditTerms")
        )
        if found.get("currencyId") and currency not in doc:
            doc[currency] = found["currencyId"]
        if isinstance(found.get("creditTerms"), dict) and terms not in doc:
            doc[terms] = {"id": found["creditTerms"].get("id")}
    if model.attachments:
        doc.setdefault("attachments", [])


def _lines(kind: Kind, model: _Model, doc: Json, raw_lines: list[Any], creating: bool) -> None:
    assert kind.read_lines and kind.line_number and kind.read_line_number and model.calc
    nbr = kind.read_line_number
    by_no: dict[int, Json] = {int(line[nbr]): line for line in doc.get(kind.read_lines) or []}
    touched: dict[int, set[str]] = {}
    # Like Visma's line counter, a number deleted in this request is not reused
    # by an insert in the same request.
    highest = max(by_no, default=0)
    for raw in raw_lines:
        if not isinstance(raw, dict):
            raise _Invalid(f"Every entry of '{kind.lines}' must be an object.")
        op = raw.get("operation") or "Insert"
        if op not in ("Insert", "Update", "Delete"):
            raise _Invalid(f"Line operation '{op}' is not one of Insert, Update, Delete.")
        given = raw.get(kind.line_number)
        n = _int(given, kind.line_number) if given is not None else None
        if creating and op != "Insert":
            raise _Invalid(
                f"Line operation '{op}' cannot be used when creating a document; use 'Insert'."
            )
        if op == "Insert":
            if n is None or n < 1 or n in by_no:
                n = highest + 1
            highest = max(highest, n)
            line: Json = {nbr: n}
            touched[n] = _fields(line, raw, model.line)
            by_no[n] = line
            continue
        if n is None:
            raise _Invalid(f"Line operation '{op}' needs a {kind.line_number}.")
        if n not in by_no:
            raise _Invalid(f"Line number {n} cannot be found in the document.")
        if op == "Delete":
            del by_no[n]
            touched.pop(n, None)
        else:
            touched[n] = touched.get(n, set()) | _fields(by_no[n], raw, model.line)
    calc = model.calc
    for n, sent in touched.items():
        line = by_no[n]
        if not (_filled(line.get(calc.item)) or _filled(line.get(calc.text))):
            raise _Invalid(f"Line {n}: either '{calc.item}' or '{calc.text}' must be specified.")
        _line_amounts(calc, line, sent)
    doc[kind.read_lines] = [by_no[k] for k in sorted(by_no)]


def _filled(v: Any) -> bool:
    if isinstance(v, dict):
        return any(_filled(x) for x in v.values())
    return v is not None and str(v).strip() != ""


_CENT = Decimal("0.01")


def _round(d: Decimal, places: Decimal = _CENT) -> Decimal:
    return d.quantize(places, rounding=ROUND_HALF_UP)


def _d(line: Mapping[str, Any], key: str | None) -> Decimal:
    v = line.get(key) if key else None
    return Decimal(str(v)) if v is not None else Decimal(0)


def _line_amounts(calc: _Calc, line: Json, sent: set[str]) -> None:
    """Line amount = quantity x unit price - discount, in document currency.
    A line amount sent outright wins; a line nothing arithmetic was sent for
    keeps its amount."""
    qty, price = _d(line, calc.qty), _d(line, calc.price)
    if calc.gross and calc.gross in sent and line.get(calc.gross) is not None:
        gross = _d(line, calc.gross)
    else:
        gross = _round(qty * price)
    if calc.disc in sent and calc.pct not in sent and line.get(calc.disc) is not None:
        disc = _d(line, calc.disc)
        pct = _round(disc * 100 / gross, Decimal("0.000001")) if gross else _d(line, calc.pct)
    else:
        pct = _d(line, calc.pct)
        disc = _round(gross * pct / 100)
    arithmetic = {calc.qty, calc.price, calc.pct, calc.disc, calc.gross}
    if calc.manual and line.get(calc.manual) is not None:
        net = _d(line, calc.manual)
    elif line.get(calc.net) is not None and (calc.net in sent or not sent & arithmetic):
        net = _d(line, calc.net)
    else:
        net = gross - disc
    line[calc.qty] = float(qty)
    line[calc.price] = float(price)
    line[calc.pct] = float(pct)
    line[calc.disc] = float(disc)
    if calc.gross:
        line[calc.gross] = float(gross)
    line[calc.net] = float(_round(net))


def _totals(kind: Kind, model: _Model, doc: Json) -> None:
    """Base-currency line values and the document totals."""
    assert kind.read_lines and model.calc
    calc = model.calc
    rate = _d(doc, "exchangeRate") or Decimal(1)
    lines: list[Json] = doc[kind.read_lines]
    for line in lines:
        line[calc.base_price] = float(_round(_d(line, calc.price) * rate, Decimal("0.0001")))
        if calc.base_net:
            line[calc.base_net] = float(_round(_d(line, calc.net) * rate))
        if calc.base_disc:
            line[calc.base_disc] = float(_round(_d(line, calc.disc) * rate))
    detail = sum((_d(line, calc.net) for line in lines), Decimal(0))
    if model.family == "po":
        for line in lines:
            line["orderType"] = doc.get("orderType")
            line["orderNumber"] = doc.get(kind.read_number)
        total = _round(detail)
        doc["lineTotal"] = doc["orderTotal"] = doc["openBalance"] = float(total)
        doc["lineTotalInBaseCurrency"] = float(_round(total * rate))
        doc["orderTotalInBaseCurrency"] = float(_round(total * rate))
        doc["openQuantity"] = float(sum((_d(line, calc.qty) for line in lines), Decimal(0)))
        if doc.get("controlTotal") is not None:
            doc["controlTotalInBaseCurrency"] = float(_round(_d(doc, "controlTotal") * rate))
        return
    taxes = doc.get("taxDetails" if model.family == "ar" else "taxDetailLines") or []
    vat = sum((_d(t, "vatAmount") for t in taxes), Decimal(0))
    amount = _round(detail + vat)
    doc["detailTotalInCurrency"] = float(_round(detail))
    doc["detailTotal"] = float(_round(detail * rate))
    doc["vatTotalInCurrency"] = float(_round(vat))
    doc["vatTotal"] = float(_round(vat * rate))
    if model.family == "ar":
        doc["amountInCurrency"] = float(amount)
    doc["amount"] = float(amount if model.family == "ap" else _round(amount * rate))
    # Unreleased and freshly released documents owe their whole amount.
    doc["balanceInCurrency"] = float(amount)
    doc["balance"] = float(_round(amount * rate))


def _status(model: _Model, doc: Json) -> None:
    if model.family == "party":
        return
    hold = bool(doc.get("hold"))
    doc["hold"] = hold
    if model.family == "po":
        if doc.get("status") in (None, "Hold", "Open", "Balanced"):
            doc["status"] = "Hold" if hold else "Open"
    elif doc.get("status") in (None, *_UNRELEASED):
        doc["status"] = "Hold" if hold else "Balanced"


def _stamp(kind: Kind, model: _Model, doc: Json, now: datetime, creating: bool) -> None:
    now = now.replace(tzinfo=None)
    moment = now.isoformat(timespec="milliseconds")
    if creating and model.created:
        doc["createdDateTime"] = moment
    doc["lastModifiedDateTime"] = moment
    if kind.etag:
        doc["timeStamp"] = _next_timestamp(doc.get("timeStamp"), now)


def _next_timestamp(previous: Any, now: datetime) -> str:
    """8 bytes like SQL Server's rowversion, base64: grows on every change."""
    ticks = int((now - datetime(1970, 1, 1)).total_seconds() * 10_000_000)
    if isinstance(previous, str):
        with contextlib.suppress(ValueError):
            ticks = max(ticks, int.from_bytes(base64.b64decode(previous), "big") + 1)
    return base64.b64encode(ticks.to_bytes(8, "big")).decode("ascii")


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class _Query:
    get: Callable[[Json], Any]
    how: str  # "text" (equals) | "contains" | "date" | "released" | "item"


def _at(*path: str) -> Callable[[Json], Any]:
    def get(doc: Json) -> Any:
        node: Any = doc
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node

    return get


def _line_items(doc: Json) -> list[Any]:
    return [line.get("inventoryNumber") for line in doc.get("invoiceLines") or []]


_AR_QUERIES = {
    "customer": _Query(_at("customer", "number"), "text"),
    "status": _Query(_at("status"), "text"),
    "externalReference": _Query(_at("externalReference"), "text"),
    "customerRefNumber": _Query(_at("customerRefNumber"), "text"),
    "paymentReference": _Query(_at("paymentReference"), "text"),
    "financialPeriod": _Query(_at("financialPeriod"), "text"),
    "project": _Query(_at("project", "id"), "text"),
    "branch": _Query(_at("branchNumber", "number"), "text"),
    "released": _Query(_at("status"), "released"),
    "documentDate": _Query(_at("documentDate"), "date"),
    "documentDueDate": _Query(_at("documentDueDate"), "date"),
    "createdDateTime": _Query(_at("createdDateTime"), "date"),
    "lastModifiedDateTime": _Query(_at("lastModifiedDateTime"), "date"),
}
_QUERIES: dict[str, dict[str, _Query]] = {
    "customer": {
        # "GET /customer?name=Norwegian ... customers with the name containing
        # 'Norwegian'" (Visma's pagination how-to); the spec says "Equals".
        "name": _Query(_at("name"), "contains"),
        "status": _Query(_at("status"), "text"),
        "corporateId": _Query(_at("corporateId"), "text"),
        "vatRegistrationId": _Query(_at("vatRegistrationId"), "text"),
        "email": _Query(_at("mainContact", "email"), "text"),
        "phone": _Query(_at("mainContact", "phone1"), "text"),
        "createdDateTime": _Query(_at("createdDateTime"), "date"),
        "lastModifiedDateTime": _Query(_at("lastModifiedDateTime"), "date"),
    },
    "supplier": {
        "name": _Query(_at("name"), "text"),
        "status": _Query(_at("status"), "text"),
        "corporateId": _Query(_at("corporateId"), "text"),
        "vatRegistrationId": _Query(_at("vatRegistrationId"), "text"),
        "lastModifiedDateTime": _Query(_at("lastModifiedDateTime"), "date"),
    },
    "customer_invoice": _AR_QUERIES,
    "customer_credit_note": _AR_QUERIES,
    "customer_debit_note": _AR_QUERIES,
    "supplier_invoice": {
        "supplier": _Query(_at("supplier", "number"), "text"),
        "status": _Query(_at("status"), "text"),
        "documentType": _Query(_at("documentType"), "text"),
        "financialPeriod": _Query(_at("financialPeriod"), "text"),
        "branch": _Query(_at("branchNumber", "number"), "text"),
        "item": _Query(_line_items, "item"),
        "released": _Query(_at("status"), "released"),
        "docDate": _Query(_at("date"), "date"),
        "dueDate": _Query(_at("dueDate"), "date"),
        "createdDateTime": _Query(_at("createdDateTime"), "date"),
        "lastModifiedDateTime": _Query(_at("lastModifiedDateTime"), "date"),
    },
    "purchase_order": {
        "supplier": _Query(_at("supplier", "number"), "text"),
        "orderStatus": _Query(_at("status"), "text"),
        "orderType": _Query(_at("orderType"), "text"),
        "branch": _Query(_at("branch", "number"), "text"),
        "orderDate": _Query(_at("date"), "date"),
        "deliveryDate": _Query(_at("promisedOn"), "date"),
        "lastModifiedDateTime": _Query(_at("lastModifiedDateTime"), "date"),
    },
}

_CONDITIONS = (">", ">=", "<", "<=")


INDEX_VERSION = 1  # bump when index_entries changes: a stored index is then rebuilt

_OPS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda have, wanted: have == wanted,
    "contains": lambda have, wanted: wanted in have,
    ">": lambda have, wanted: have > wanted,
    ">=": lambda have, wanted: have >= wanted,
    "<": lambda have, wanted: have < wanted,
    "<=": lambda have, wanted: have <= wanted,
}
OPERATORS = tuple(_OPS)


def _moment(value: datetime) -> str:
    """A datetime as text that sorts as the time does."""
    return value.isoformat(timespec="microseconds")


def _entries(q: _Query, doc: Json) -> list[str]:
    have = q.get(doc)
    if q.how == "released":
        return ["1" if have not in _UNRELEASED else "0"]
    if q.how == "date":
        try:
            return [_moment(datetime.fromisoformat(have))] if isinstance(have, str) else []
        except ValueError:
            return []
    values = have if q.how == "item" else [have]
    # The ERP's database compares text without regard to case.
    return [str(v).casefold() for v in values if v is not None]


def index_entries(kind: Kind, doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(filter name in lower case, value) for every list filter of ``kind``
    that ``doc`` has a value for, as :func:`conditions` compares them: text
    case-folded, dates as sortable ISO text, ``released`` as 1 or 0. A store
    keeps these beside the document to filter without reading it."""
    return [
        (name.lower(), value)
        for name, q in _QUERIES[kind.name].items()
        for value in _entries(q, dict(doc))
    ]


def conditions(kind: Kind, query: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The filters of a list query as (name in lower case, operator, value),
    all of which a document passes when some entry of :func:`index_entries`
    under that name compares true: ``value`` operator ``wanted``, the operator
    one of :data:`OPERATORS`. Parameter names compare without regard to case;
    a date parameter takes its ``<name>Condition`` (> >= < <=; default >=);
    parameters that are no filter (paging, expand...) are ignored.
    BusinessError for a malformed value or a condition without its date."""
    queries = {n.lower(): (n, q) for n, q in _QUERIES[kind.name].items()}
    given = {k.lower(): v for k, v in query.items()}
    out: list[tuple[str, str, str]] = []
    for key, value in given.items():
        if key.endswith("condition") and key[: -len("condition")] in queries:
            base = key[: -len("condition")]
            if base not in given:
                raise BusinessError(
                    f"{queries[base][0]} and {queries[base][0]}Condition must be given together."
                )
            continue
        found = queries.get(key)
        if found is None:
            continue
        name, q = found
        if q.how == "date":
            op = given.get(key + "condition", ">=").strip()
            if op not in _CONDITIONS:
                raise BusinessError(f"{name}Condition '{op}' is not one of > >= < <=.")
            try:
                out.append((key, op, _moment(_parse_datetime(value, name))))
            except _Invalid as exc:
                raise BusinessError(str(exc)) from None
        elif q.how == "released":
            if value.strip().lower() not in ("0", "1", "true", "false"):
                raise BusinessError(f"'{name}' must be 0 or 1, not '{value}'.")
            out.append((key, "=", "1" if value.strip().lower() in ("1", "true") else "0"))
        else:
            out.append((key, "contains" if q.how == "contains" else "=", value.casefold()))
    return out


def passes(entries: list[tuple[str, str]], wanted: list[tuple[str, str, str]]) -> bool:
    """Whether a document with these :func:`index_entries` passes these :func:`conditions`."""
    return all(
        any(n == name and _OPS[op](have, value) for n, have in entries)
        for name, op, value in wanted
    )


def list_filters(kind: Kind) -> dict[str, Filter]:
    """The list query parameters of GET /v1/<collection> that the sandbox
    honours, by the spec's names: each takes (stored_doc, query_value). Text
    compares without regard to case (a customer's ``name`` matches names that
    contain it, the others the whole value); a date parameter alone means "on
    or after" (use :func:`matches` for the ``<name>Condition`` companions);
    ``released`` is 1 or 0."""

    def one(name: str) -> Filter:
        return lambda doc, value: matches(kind, doc, {name: value})

    return {name: one(name) for name in _QUERIES[kind.name]}


def matches(kind: Kind, doc: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    """Whether ``doc`` passes every filter of a list query (see :func:`conditions`)."""
    return passes(index_entries(kind, doc), conditions(kind, query))
