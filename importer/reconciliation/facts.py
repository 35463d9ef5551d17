"""How a type is read back, and how its values compare (``vnimport reconcile``).

A type's facts are its schema's ``x-reconcile`` (all optional)::

    "read":     {request path: read path} where Visma names a field otherwise
                (a prefix renames what is under it: "billingAddress": "invoiceAddress");
                a field ``fooId`` / ``fooNumber`` is found as ``foo`` without it,
                and a reference object by its ``number`` or ``id``
    "unread":   request fields (and what is under them) Visma never gives back
    "list":     more query parameters of the list call ({"expandInvoiceAddress": "true"})
    "line":     {"amount": the line field whose x-control (line-amount) gives the
                 line's amount, "read": {"quantity", "price", "amount": read names}}
    "total":    the read field of the lines' total excluding VAT
    "shown":    read fields Visma works out itself: shown, not judged
    "party":    {"field": request field, "title", "one": "GET .../{number}/balance",
                 "all": "GET .../balance", "key": the party's number in a balance
                 record, "shown": balance fields to show}
    "currency": the request field of the document's currency

:func:`same` compares a value of the file with Visma's: numbers within 0.01,
text without regard to case or outer spaces, dates by the day (or the
moment, when the file gives a time), periods ``MMYYYY`` and ``YYYYMM`` alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from importer.checks import Formula
from importer.doctypes import DocType
from importer.errors import DocTypeError

TOLERANCE = Decimal("0.01")
_PERIOD = re.compile(r"\d{6}")


@dataclass(frozen=True)
class Party:
    """The customer or supplier of a type's documents, and its balance endpoints."""

    field: str
    title: str
    one: str  # path of one party's balance, with {number}
    all: str  # path of the paged list of balances
    key: str  # the party's number in a balance record
    shown: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    """A type's ``x-reconcile``, read and checked."""

    read: Mapping[str, str]
    unread: tuple[str, ...]
    list_params: Mapping[str, str]
    line_amount: str  # request name of the line's amount field ("" without lines)
    formula: Formula | None  # the line's amount from quantity and price
    line_read: Mapping[str, str]  # quantity, price, amount -> read names
    total: str
    shown: tuple[str, ...]
    party: Party | None
    currency: str

    @classmethod
    def of(cls, doctype: DocType) -> Facts:
        given = doctype.schema.get("x-reconcile", {})
        where = f"{doctype.schema_path}: x-reconcile"
        if not isinstance(given, dict):
            raise DocTypeError(f"{where} must be an object")
        read = _texts(given.get("read", {}), f"{where} read", mapping=True)
        unread = _texts(given.get("unread", []), f"{where} unread")
        params = _texts(given.get("list", {}), f"{where} list", mapping=True)
        line = given.get("line", {})
        amount, formula, line_read = "", None, {}
        if line:
            if not isinstance(line, dict):
                raise DocTypeError(f"{where} line must be an object, not {line!r}")
            control = doctype.declared.control(str(line.get("amount")))
            line_read = _texts(line.get("read", {}), f"{where} line read", mapping=True)
            if (
                doctype.lines is None
                or control is None
                or control.kind != "line-amount"
                or control.formula is None
                or set(line_read) != {"quantity", "price", "amount"}
            ):
                raise DocTypeError(
                    f'{where} line must be {{"amount": <a line field with an x-control of '
                    'kind line-amount>, "read": {"quantity": .., "price": .., "amount": ..}}, '
                    f"not {line!r}"
                )
            prefix = doctype.lines + "."
            amount = control.field.removeprefix(prefix)
            formula = Formula(
                *(
                    name.removeprefix(prefix)
                    for name in (
                        control.formula.quantity,
                        control.formula.price,
                        control.formula.discount_percent,
                        control.formula.discount_amount,
                    )
                )
            )
        party = None
        if "party" in given:
            p = _texts(given["party"], f"{where} party", mapping=True, lists=("shown",))
            if not {"field", "title", "one", "all", "key"} <= set(p):
                raise DocTypeError(f"{where} party needs field, title, one, all and key")
            party = Party(
                p["field"], p["title"], p["one"], p["all"], p["key"], tuple(p.get("shown", ()))
            )
        return cls(
            read=read,
            unread=tuple(unread),
            list_params=params,
            line_amount=amount,
            formula=formula,
            line_read=line_read,
            total=str(given.get("total", "")),
            shown=tuple(_texts(given.get("shown", []), f"{where} shown")),
            party=party,
            currency=str(given.get("currency", "")),
        )

    def is_unread(self, path: str) -> bool:
        return any(path == u or path.startswith(u + ".") for u in self.unread)

    def read_path(self, path: str) -> str:
        """The request path under Visma's read name (the longest renamed prefix)."""
        parts = path.split(".")
        for n in range(len(parts), 0, -1):
            renamed = self.read.get(".".join(parts[:n]))
            if renamed is not None:
                return ".".join([renamed, *parts[n:]])
        return path

    def find(self, path: str, record: Mapping[str, Any]) -> tuple[bool, Any]:
        """(whether Visma's ``record`` has the request ``path``, its value
        there): renamed as ``read`` says, else as named, else without an
        ``Id`` / ``Number`` ending (``customerClassId``: ``customerClass``)."""
        mapped = self.read_path(path)
        found = at_path(record, mapped)
        if found[0]:
            return found
        head, _, last = mapped.rpartition(".")
        for ending in ("Id", "Number", "Nbr"):
            if last.endswith(ending) and len(last) > len(ending):
                stem = last[: -len(ending)]
                found = at_path(record, f"{head}.{stem}" if head else stem)
                if found[0]:
                    return found
        return False, None


def _texts(given: Any, where: str, *, mapping: bool = False, lists: tuple[str, ...] = ()) -> Any:
    ok = (
        isinstance(given, dict)
        and all(
            isinstance(v, str) or (k in lists and isinstance(v, list)) for k, v in given.items()
        )
        if mapping
        else isinstance(given, list) and all(isinstance(v, str) for v in given)
    )
    if not ok:
        kind = "an object of texts" if mapping else "a list of texts"
        raise DocTypeError(f"{where} must be {kind}, not {given!r}")
    return given


# ------------------------------------------------------------- values


def same(file: Any, visma: Any) -> bool:
    """Whether Visma's value is the file's: numbers within 0.01, text without
    regard to case or outer spaces, dates by the day (or the moment, when
    the file gives a time), periods MMYYYY and YYYYMM alike."""
    if file is None:
        return visma is None or visma == ""
    if visma is None:
        return False
    if isinstance(file, bool) or isinstance(visma, bool):
        return str(file).strip().lower() == str(visma).strip().lower()
    if isinstance(file, (int, float, Decimal)) or isinstance(visma, (int, float, Decimal)):
        a, b = as_decimal(file), as_decimal(visma)
        if a is not None and b is not None:
            return abs(a - b) <= TOLERANCE
    if isinstance(file, (dict, list)) or isinstance(visma, (dict, list)):
        return bool(file == visma)
    a_text, b_text = str(file).strip(), str(visma).strip()
    if a_text.casefold() == b_text.casefold():
        return True
    if _PERIOD.fullmatch(a_text) and _PERIOD.fullmatch(b_text):
        return a_text[2:] + a_text[:2] == b_text or b_text[2:] + b_text[:2] == a_text
    return _same_moment(a_text, b_text)


def _same_moment(a: str, b: str) -> bool:
    try:
        x = datetime.fromisoformat(a).replace(tzinfo=None)
        y = datetime.fromisoformat(b).replace(tzinfo=None)
    except ValueError:
        return False
    if x.time() == datetime.min.time():
        return x.date() == y.date()
    return x == y


def as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def unwrap(node: Any) -> Any:
    """A request value without its ``{"value": ...}`` wrapper."""
    while isinstance(node, dict) and set(node) == {"value"}:
        node = node["value"]
    return node


def header_leaves(body: Mapping[str, Any], skip: str | None) -> Iterator[tuple[str, Any]]:
    """(request path, value) of every scalar of the body's header; lists
    (the lines, segments, attributes, tax details) are not compared."""
    stack: list[tuple[str, Any]] = [(k, v) for k, v in body.items() if k != skip][::-1]
    while stack:
        path, node = stack.pop()
        node = unwrap(node)
        if isinstance(node, dict):
            stack.extend([(f"{path}.{k}", v) for k, v in node.items()][::-1])
        elif not isinstance(node, list):
            yield path, node


def at_path(record: Any, path: str) -> tuple[bool, Any]:
    """(whether the record has ``path``, its value there)."""
    node = record
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def code_of(value: Any) -> Any:
    """A reference object (``{"number": "10001", "name": ...}``, ``{"id": "NO"}``)
    as the code the request gave."""
    if isinstance(value, Mapping):
        for key in ("number", "id"):
            if key in value:
                return value[key]
    return value


def name_of(value: Any) -> str:
    return str(value.get("name") or "") if isinstance(value, Mapping) else ""


def day_of(value: Any) -> str:
    """A date of the body as ``YYYY-MM-DD`` ("" when it is not one)."""
    text = str(value or "")[:10]
    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else ""
