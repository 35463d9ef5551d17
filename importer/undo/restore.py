"""Putting back what a run's update changed, from the copy of the document
the journal kept before the update (its *pre-image*, as Visma's GET showed it).

What Visma shows (a read DTO, flat: ``customerClass: {"id": "1"}``) and what
it takes (an update DTO, wrapped: ``customerClassId: {"value": "1"}``) name
fields differently, and a read DTO holds much that cannot be sent back
(totals, statuses, times). So only the fields the run's update sent are put
back, each from its counterpart in the copy, found by the DTOs' conventions:
the same name (``name``, ``mainAddress.city``), a reference object's ``id``
or ``number`` (``branchNumber: {"number"}``), ``<x>Id`` as ``<x>.id``
(``customerClassId``, ``countryId``), ``<x>Number`` as ``<x>.number``
(``customerNumber``, ``accountNumber``), and segments as the list in their
object (``subaccount``). A field the copy lacks and the document now has was
empty before: it is cleared. A field neither shows is not shown by Visma at
all (``overrideNumberSeries``): it cannot be known, and stays as the run
set it. Lines are matched by their number: those the run added are deleted,
those it removed inserted again, the others updated back. Afterwards the
document is read again and compared with the copy (:func:`differences`):
what still differs is named, never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_MISSING: Any = object()
_REFERENCE_KEYS = ("id", "number")


def counterpart(doc: Mapping[str, Any], name: str, listed: bool = False) -> Any:
    """The value of request field ``name`` as the read document ``doc`` shows
    it (``listed``: the request takes a plain list, such as segments);
    :data:`_MISSING` when it shows none."""
    if name in doc:
        value = doc[name]
        if listed:
            if isinstance(value, list):
                return value
            lists = (
                [v for v in value.values() if isinstance(v, list)]
                if isinstance(value, dict)
                else []
            )
            return lists[0] if len(lists) == 1 else _MISSING
        if isinstance(value, dict):
            found = [value[k] for k in _REFERENCE_KEYS if k in value]
            return found[0] if len(found) == 1 else _MISSING
        return value
    for suffix, key in (("Id", "id"), ("Number", "number")):
        ref = doc.get(name[: -len(suffix)]) if name.endswith(suffix) else None
        if isinstance(ref, dict) and key in ref:
            return ref[key]
    return _MISSING


def _wrapped(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"value"}


def _fields(
    sent: Mapping[str, Any], before: Mapping[str, Any], now: Mapping[str, Any], prefix: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """The fields of ``sent`` put back as ``before`` had them, and the names
    of those that cannot be (Visma shows them in neither)."""
    body: dict[str, Any] = {}
    unseen: list[str] = []
    for name, value in sent.items():
        if _wrapped(value) and isinstance(value["value"], dict):  # a nested object
            inner_before, inner_now = before.get(name), now.get(name)
            if not isinstance(inner_before, dict) and not isinstance(inner_now, dict):
                unseen.append(prefix + name)
                continue
            inner, lost = _fields(
                value["value"],
                inner_before if isinstance(inner_before, dict) else {},
                inner_now if isinstance(inner_now, dict) else {},
                f"{prefix}{name}.",
            )
            unseen += lost
            if inner:
                body[name] = {"value": inner}
            continue
        listed = isinstance(value, list)
        if not (_wrapped(value) or listed):
            continue  # a plain flag (overrideWithClassValues): an instruction, not a value
        old = counterpart(before, name, listed)
        if old is _MISSING:
            if counterpart(now, name, listed) is _MISSING:
                unseen.append(prefix + name)
                continue
            old = [] if listed else None  # empty before the run: cleared
        body[name] = old if listed else {"value": old}
    return body, unseen


def restore_body(
    sent: Mapping[str, Any],
    before: Mapping[str, Any],
    now: Mapping[str, Any],
    *,
    number_field: str,
    lines: str | None = None,
    line_number: str = "",
    read_line_number: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """The update body that puts back, as ``before`` (the pre-image) had
    them, the fields the run's update ``sent`` changed in the document that
    is ``now``; and the fields that cannot be put back (Visma shows them
    nowhere)."""
    header = {k: v for k, v in sent.items() if k not in (number_field, lines)}
    body, unseen = _fields(header, before, now)
    sent_lines = sent.get(lines) if lines else None
    if lines and isinstance(sent_lines, list):
        body[lines] = _lines(
            [x for x in sent_lines if isinstance(x, dict)],
            before.get(lines) or [],
            now.get(lines) or [],
            line_number,
            read_line_number or line_number,
        )
    return body, unseen


def _lines(
    sent: list[dict[str, Any]],
    before: list[dict[str, Any]],
    now: list[dict[str, Any]],
    field: str,
    read_field: str,
) -> list[dict[str, Any]]:
    """Line operations that make ``now``'s lines ``before``'s again, for the
    fields the run's lines sent."""
    names: dict[str, Any] = {}  # field -> a value as sent (its form: wrapped or a list)
    for line in sent:
        for name, value in line.items():
            if name not in ("operation", field):
                names.setdefault(name, value)
    then = {int(x[read_field]): x for x in before if isinstance(x, dict) and read_field in x}
    current = {int(x[read_field]): x for x in now if isinstance(x, dict) and read_field in x}
    out: list[dict[str, Any]] = []
    for n, old in sorted(then.items()):
        fields, _ = _fields(names, old, current.get(n, {}))
        operation = "Update" if n in current else "Insert"
        out.append({"operation": operation, field: {"value": n}, **fields})
    out += [{"operation": "Delete", field: {"value": n}} for n in sorted(current) if n not in then]
    return out


def differences(
    before: Mapping[str, Any], after: Mapping[str, Any], volatile: Iterable[str] = ()
) -> list[str]:
    """The fields in which ``after`` is not ``before`` (both as Visma shows
    them), but for ``volatile`` ones (times, ETags): a nested object's as
    ``object.field``."""
    skip = set(volatile)
    found: list[str] = []
    for name in sorted(set(before) | set(after)):
        if name in skip:
            continue
        old, new = before.get(name), after.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            found += [f"{name}.{x}" for x in differences(old, new, skip)]
        elif old != new:
            found.append(name)
    return found
