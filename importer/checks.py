"""Checks a document type declares in its schema, beyond JSON Schema.

JSON Schema checks one value at a time; an accountant also checks values
against each other: a line total against quantity x unit price, a document
total against its lines, a due date against the document date. A type
declares such checks with four keywords, read here once at load (a
malformed one is a :class:`DocTypeError`, like every ``x-`` keyword) and
applied to rows by :mod:`importer.validate`:

``x-control`` (a number field) the field is a total that must agree with others:

    ``{"kind": "line-amount", "quantity": Q, "price": P,
    "discount-percent": DP, "discount-amount": DA}``: the line's amount,
    sent to Visma; when Q and P are both filled it must be Q x P less the
    discount (DA, else DP % of Q x P);

    ``{"kind": "line-total", "quantity": Q, "price": P, "discount-percent": DP,
    "discount-amount": DA, "amount": A}``: a control total, never sent: it
    must agree with the line's imported amount A when that is filled, else
    with Q x P less the discount; a line with neither cannot check it, and
    its amount would be lost, so that is an error (a line with a quantity
    but no price, whose price Visma takes from the item, a warning);

    ``{"kind": "document-total", "of": L}``: a header control total, never
    sent: the sum of the document's line amounts (excluding VAT), each line's
    amount being L's ``amount`` field, else L, else computed as L declares.

    A line agrees within 0.01 (Visma rounds quantity x price and the
    discount to the cent); a document within 0.01 per line. Whether a field
    is sent is its template's to say: a line-total or document-total field
    is one the template never names.

``x-cross-check`` (a text field) the header field this one names in words,
    never sent (its template does not name it): ``customerName`` beside
    ``customerNumber``, for a check against the name Visma has for that
    number (``DocType.cross_checks``).

``x-enum-aliases`` (an ``enum`` field) the words that mean each of Visma's
    values, by language: ``{"nb": {"Aktiv": "Active"}, "sv": {...}}``. A cell
    is read ignoring case, spaces and punctuation (``on hold`` is
    ``OnHold``), and the request carries Visma's word.

``x-reference`` (a text field) the company's list in Visma whose record the
    field names, by the list's path (``GET /v1/<list>``): ``"customer"``,
    ``"inventory"``, ``"vat"`` ... (:data:`REFERENCE_LISTS`); ``"subaccount"``
    on a pattern property of subaccount segments, whose ``{n}`` is the
    segment; and for a field that says a document's financial period,
    ``{"list": "financialPeriod", "ledger": "customer" | "supplier", "form":
    "date" | "MMYYYY" | "YYYYMM"}``: the period must not be closed in that
    ledger (a date's period is checked when the document gives no period).
    :mod:`importer.company_checks` checks them against the company.

``x-checks`` (top level) a list of rules, each
    ``{"rule": R, "field": F, "level": "error" | "warning", "message": K}``
    with ``R`` one of ``not-before`` (a date F not before the date ``than``),
    ``not-negative`` (a number F not below 0) and ``emails`` (F holds e-mail
    addresses, several separated by ``;`` or ``,`` when ``"several": true``,
    else one); ``level`` defaults to ``error``, and ``message`` names a
    message of :data:`importer.codes.MESSAGES` of the rule's code
    (``negative.invoice``), the rule's own by default.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from importer.codes import MESSAGES
from importer.errors import DocTypeError

Level = Literal["error", "warning"]

CENT = Decimal("0.01")

LINE_KINDS = ("line-amount", "line-total")
_FORMULA = ("quantity", "price", "discount-percent", "discount-amount")
_MEMBERS = {
    "line-amount": {"kind", *_FORMULA},
    "line-total": {"kind", *_FORMULA, "amount"},
    "document-total": {"kind", "of"},
}

# rule -> (its message code, the parameters its messages may name, members)
_RULES: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "not-before": (
        "not-before",
        frozenset({"title", "value", "than", "limit"}),
        frozenset({"rule", "field", "than", "level", "message"}),
    ),
    "not-negative": (
        "negative",
        frozenset({"title", "value"}),
        frozenset({"rule", "field", "level", "message"}),
    ),
    "emails": (
        "emails",
        frozenset({"title", "count"}),
        frozenset({"rule", "field", "several", "level", "message"}),
    ),
}
DEFAULT_KEYS = {"not-before": "not-before", "not-negative": "negative", "emails": "emails.one"}


@dataclass(frozen=True, slots=True)
class Formula:
    """Quantity x price less a discount, by field names ("" when not declared)."""

    quantity: str
    price: str
    discount_percent: str = ""
    discount_amount: str = ""


@dataclass(frozen=True, slots=True)
class Control:
    """One ``x-control``: the field it is on, its kind, and what it is checked against."""

    field: str
    kind: str  # line-amount | line-total | document-total
    formula: Formula | None = None  # the line kinds
    amount: str = ""  # line-total: the line's imported amount, which it must equal
    of: str = ""  # document-total: the line field whose amounts are summed


@dataclass(frozen=True, slots=True)
class Check:
    """One rule of ``x-checks``."""

    rule: str
    field: str
    key: str  # the message (importer.codes.MESSAGES)
    level: Level = "error"
    than: str = ""  # not-before: the other date
    several: bool = False  # emails: more than one address allowed


#: The company's lists a field may name a record of (``x-reference``), by
#: the path of the list in the API (``GET /v1/<list>``).
REFERENCE_LISTS = (
    "customer",
    "supplier",
    "inventory",
    "vat",
    "vatZone",
    "account",
    "subaccount",
    "branch",
    "currency",
    "creditTerm",
    "project",
    "financialPeriod",
)
LEDGERS = ("customer", "supplier")  # the ledgers a financial period is closed in
PERIOD_FORMS = ("date", "MMYYYY", "YYYYMM")  # how a field says a financial period


@dataclass(frozen=True, slots=True)
class Reference:
    """One ``x-reference``: the field (a pattern property's column, with
    ``{n}``), the list it names a record of, and for a financial period the
    ledger it must be open in and how the field writes the period."""

    field: str
    list: str
    ledger: str = ""  # financialPeriod: customer | supplier
    form: str = ""  # financialPeriod: date | MMYYYY | YYYYMM

    @property
    def pattern(self) -> bool:
        """A family of columns (subaccount segments): ``{n}`` is the segment."""
        return "{n}" in self.field


@dataclass(frozen=True, slots=True)
class Declared:
    """What a type declares with the keywords above."""

    controls: tuple[Control, ...] = ()
    checks: tuple[Check, ...] = ()
    # field -> normalized word -> Visma's value (the values themselves included)
    enum_words: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    cross_checks: Mapping[str, str] = field(default_factory=dict)  # field -> number field
    references: tuple[Reference, ...] = ()  # x-reference, header and line fields

    def control(self, name: str) -> Control | None:
        return next((c for c in self.controls if c.field == name), None)


# ------------------------------------------------------------- reading


def read_declared(
    schema: dict[str, Any], path: Path, lines: str | None, normalize: Any
) -> Declared:
    """The type's declared checks, every keyword checked; ``normalize``
    compares words (importer.doctypes.normalize_header)."""
    props: dict[str, Any] = schema.get("properties", {})
    prefix = f"{lines}." if lines else None

    def is_line(name: str) -> bool:
        return prefix is not None and name.startswith(prefix)

    controls = [
        _control(name, prop["x-control"], props, path, is_line)
        for name, prop in props.items()
        if "x-control" in prop
    ]
    for c in controls:
        if c.kind == "document-total":
            target = next((o for o in controls if o.field == c.of), None)
            if target is None or target.kind not in LINE_KINDS:
                raise DocTypeError(
                    f"{path}: x-control of {c.field!r}: 'of' must name a line field with an "
                    f"x-control of kind line-amount or line-total, not {c.of!r}"
                )
    cross = {
        name: _cross_check(name, prop["x-cross-check"], props, path, is_line)
        for name, prop in props.items()
        if "x-cross-check" in prop
    }
    words = {
        name: _enum_words(name, prop, path, normalize)
        for name, prop in props.items()
        if "x-enum-aliases" in prop
    }
    checks = _checks(schema.get("x-checks", []), props, path)
    references = [
        _reference(name, prop["x-reference"], prop, path, pattern=False)
        for name, prop in props.items()
        if "x-reference" in prop
    ]
    for rx, prop in schema.get("patternProperties", {}).items():
        if isinstance(prop, dict) and "x-reference" in prop:
            column = str(prop.get("x-column") or rx)
            references.append(_reference(column, prop["x-reference"], prop, path, pattern=True))
    return Declared(tuple(controls), tuple(checks), words, cross, tuple(references))


def _number(props: dict[str, Any], name: object) -> bool:
    return isinstance(name, str) and props.get(name, {}).get("type") in ("number", "integer")


def _control(name: str, given: Any, props: dict[str, Any], path: Path, is_line: Any) -> Control:
    shapes = (
        '{"kind": "line-amount" or "line-total", "quantity": <field>, "price": <field>, '
        '"discount-percent": <field>, "discount-amount": <field>} (line-total also '
        '"amount": <field>), or {"kind": "document-total", "of": <line field>}'
    )

    def bad(why: str) -> DocTypeError:
        return DocTypeError(
            f"{path}: x-control of {name!r} {why}; it must be {shapes}, not {json.dumps(given)}"
        )

    if not isinstance(given, dict) or given.get("kind") not in _MEMBERS:
        raise bad("has no kind it knows")
    kind = given["kind"]
    extra = set(given) - _MEMBERS[kind]
    if extra:
        raise bad(f"has members a {kind} does not take ({', '.join(sorted(extra))})")
    if not _number(props, name):
        raise bad("is on a field that is not a number")
    if kind == "document-total":
        of = given.get("of")
        if not isinstance(of, str) or not is_line(of) or is_line(name):
            raise bad("must be on a header field and name a line field in 'of'")
        return Control(name, kind, of=of)
    for member in ("quantity", "price"):
        if member not in given:
            raise bad(f"lacks {member!r}")
    named = {m: given[m] for m in (*_FORMULA, "amount") if m in given}
    for member, other in named.items():
        if not _number(props, other) or other == name:
            raise bad(f"names in {member!r} {json.dumps(other)}, which is not another number field")
        if is_line(other) != is_line(name):
            raise bad(f"names in {member!r} {other!r}, a field of the other part of the document")
    formula = Formula(
        given["quantity"],
        given["price"],
        given.get("discount-percent", ""),
        given.get("discount-amount", ""),
    )
    return Control(name, kind, formula, amount=given.get("amount", ""))


def _cross_check(name: str, given: Any, props: dict[str, Any], path: Path, is_line: Any) -> str:
    if (
        not isinstance(given, str)
        or given == name
        or given not in props
        or is_line(given)
        or props[name].get("type", "string") != "string"
    ):
        raise DocTypeError(
            f"{path}: x-cross-check of {name!r} must be on a text field and name the header "
            f'field it names in words (such as "customerNumber"), not {json.dumps(given)}'
        )
    return given


def _reference(
    name: str, given: Any, prop: dict[str, Any], path: Path, *, pattern: bool
) -> Reference:
    shape = (
        f"one of the company's lists ({', '.join(REFERENCE_LISTS)}) on a text field, "
        '"subaccount" on a pattern property of subaccount segments, or {"list": '
        '"financialPeriod", "ledger": "customer" | "supplier", "form": "date" | "MMYYYY" '
        '| "YYYYMM"} on the field that says the period'
    )

    def bad(why: str) -> DocTypeError:
        return DocTypeError(
            f"{path}: x-reference of {name!r} {why}; it must be {shape}, not {json.dumps(given)}"
        )

    text = prop.get("type", "string") == "string"
    if isinstance(given, str):
        if given not in REFERENCE_LISTS:
            raise bad("names no list of the company")
        if given == "financialPeriod":
            raise bad("needs the ledger and the form of the period")
        if (given == "subaccount") != pattern:
            raise bad(
                "is on a pattern property"
                if pattern
                else "names subaccount segments on a field that is not a pattern property"
            )
        if not text or "format" in prop or "enum" in prop:
            raise bad("is on a field that is not plain text")
        return Reference(name, given)
    if not isinstance(given, dict) or given.get("list") != "financialPeriod":
        raise bad("names no list of the company")
    if set(given) != {"list", "ledger", "form"}:
        raise bad("must have list, ledger and form, and nothing else")
    ledger, form = given["ledger"], given["form"]
    if ledger not in LEDGERS or form not in PERIOD_FORMS or pattern:
        raise bad("has a ledger or a form it does not know")
    if (form == "date") != (prop.get("format") == "date") or not text:
        raise bad(f"has the form {form!r} on a field that is {'not ' * (form == 'date')}a date")
    return Reference(name, "financialPeriod", ledger, form)


def _enum_words(name: str, prop: dict[str, Any], path: Path, normalize: Any) -> dict[str, str]:
    given = prop["x-enum-aliases"]
    values = prop.get("enum")
    shape = '{"nb": {"<word>": "<a value of enum>", ...}, "sv": {...}}'
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise DocTypeError(f"{path}: x-enum-aliases of {name!r} needs an enum of texts beside it")
    if not isinstance(given, dict) or not all(
        isinstance(words, dict) and all(isinstance(w, str) and w.strip() for w in words)
        for words in given.values()
    ):
        raise DocTypeError(
            f"{path}: x-enum-aliases of {name!r} must be {shape}, not {json.dumps(given)}"
        )
    table: dict[str, str] = {normalize(v): v for v in values}
    for lang, words in given.items():
        for word, value in words.items():
            if value not in values:
                raise DocTypeError(
                    f"{path}: x-enum-aliases of {name!r}: {lang} {word!r} means {value!r}, "
                    f"which is not one of {', '.join(values)}"
                )
            other = table.setdefault(normalize(word), value)
            if other != value:
                raise DocTypeError(
                    f"{path}: x-enum-aliases of {name!r}: {word!r} would mean both "
                    f"{other!r} and {value!r}"
                )
    return table


def message_fields(key: str) -> set[str]:
    """The parameters the English message ``key`` names."""
    return {
        name.split(".")[0].split("[")[0].split("!")[0]
        for _, name, _, _ in string.Formatter().parse(MESSAGES["en"][key])
        if name
    }


def _checks(given: Any, props: dict[str, Any], path: Path) -> list[Check]:
    shape = (
        '[{"rule": "not-before" | "not-negative" | "emails", "field": <field>, '
        '"than": <date field, not-before>, "several": true | false (emails), '
        '"level": "error" | "warning", "message": <message key>}, ...]'
    )
    if not isinstance(given, list):
        raise DocTypeError(f"{path}: x-checks must be {shape}, not {json.dumps(given)}")
    found = []
    for item in given:

        def bad(why: str, item: Any = item) -> DocTypeError:
            return DocTypeError(f"{path}: x-checks: {json.dumps(item)} {why}; the form is {shape}")

        if not isinstance(item, dict) or item.get("rule") not in _RULES:
            raise bad("has no rule it knows")
        rule = item["rule"]
        code, params, members = _RULES[rule]
        if set(item) - members:
            raise bad(f"has members a {rule} rule does not take")
        name = item.get("field")
        prop = props.get(name) if isinstance(name, str) else None
        if prop is None:
            raise bad("names no field of the schema")
        kind = prop.get("type", "string")
        if rule == "not-before":
            than = item.get("than")
            dates = [p for p in (prop, props.get(than) if isinstance(than, str) else None) if p]
            if len(dates) < 2 or than == name or any(p.get("format") != "date" for p in dates):
                raise bad("must compare two date fields (field and than)")
        elif rule == "not-negative" and kind not in ("number", "integer"):
            raise bad("is on a field that is not a number")
        elif rule == "emails" and (
            kind != "string" or not isinstance(item.get("several", False), bool)
        ):
            raise bad("must be on a text field, with several true or false")
        level = item.get("level", "error")
        if level not in ("error", "warning"):
            raise bad("has a level other than error or warning")
        key = item.get("message", DEFAULT_KEYS[rule])
        if (
            not isinstance(key, str)
            or key not in MESSAGES["en"]
            or key.partition(".")[0] != code
            or not message_fields(key) <= params
        ):
            raise bad(
                f"names a message that is not one of {code!r} with parameters among "
                f"{', '.join(sorted(params))}"
            )
        assert isinstance(name, str)  # found among the properties above
        found.append(
            Check(
                rule,
                name,
                key,
                level,
                than=item.get("than", ""),
                several=bool(item.get("several", False)),
            )
        )
    return found


# ---------------------------------------------------------- arithmetic


def decimal(value: Any) -> Decimal | None:
    """A number cell's value as a decimal (as written: 0.1 is 0.1), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return Decimal(str(value))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class LineSum:
    """Quantity x price less the discount, as Visma computes it."""

    gross: Decimal  # quantity x price, to the cent
    net: Decimal  # less the discount
    text: str  # the sum in the file's own numbers: "12 x 189.5 - 5 %"
    percent_discount: Decimal | None  # the discount percent's amount, when a percent is given


def line_sum(formula: Formula, values: Mapping[str, Any]) -> LineSum | None:
    """The line's amount from its quantity and price, or None without both."""
    qty, price = decimal(values.get(formula.quantity)), decimal(values.get(formula.price))
    if qty is None or price is None:
        return None
    gross = cents(qty * price)
    text = f"{_show(qty)} x {_show(price)}"
    pct = decimal(values.get(formula.discount_percent)) if formula.discount_percent else None
    amount = decimal(values.get(formula.discount_amount)) if formula.discount_amount else None
    by_pct = cents(gross * pct / 100) if pct is not None else None
    if amount is not None:
        discount, text = amount, f"{text} - {_show(amount)}"
    elif by_pct is not None and pct:
        discount, text = by_pct, f"{text} - {_show(pct)} %"
    else:
        discount = Decimal(0)
    return LineSum(gross, gross - discount, text, by_pct)


def _show(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def money(value: Decimal) -> str:
    return f"{value:.2f}"
