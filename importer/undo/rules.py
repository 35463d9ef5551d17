"""How a document of a type is taken back out of Visma: the schema's ``x-undo``.

The official spec decides what the API allows (user-needs.md §2.1): a
DELETE for some types, a reverse or a void for released ones, nothing for
customers and suppliers but their status. A type states it as data::

    "x-undo": {
      "status": "status",                      # the read field with the status
      "volatile": ["lastModifiedDateTime", "timeStamp"],  # change with every save
      "created": [                             # a document the run created:
        {"when": ["Hold", "Balanced"], "do": "delete",   # the first rule whose
         "call": "DELETE /v1/customerinvoice/{number}"}, # "when" holds its status
        {"when": ["Open"], "do": "reverse", "unpaid": ["balanceInCurrency", "amountInCurrency"],
         "call": "POST /v1/customerinvoice/{number}/action/reverse",
         "body": {"returnCreditNote": true},
         "release": {"type": "customer_credit_note",
                     "number": ["creditNoteDto.referenceNumber", "referenceNumber"]}}
      ],
      "updated": [{"when": ["Hold", "Balanced"], "do": "restore"}],
      "by-hand": "what to do in Visma when no rule applies"
    }

A rule's ``do`` is one of :data:`VERBS`; ``call`` is the request it makes
(``{number}`` is the document's number, any other ``{field}`` the field of
the document as Visma shows it now), with ``body``; ``unpaid`` names two
read fields that are equal while nothing is paid against the document
(else it is left for a person); ``done`` the statuses it has once the call
has been carried out (a void is done in the background); ``release`` the
type of the document a reverse makes, released in turn, and where its
number is in the answer. ``restore`` puts back what the run changed, from
the copy the journal kept; it takes no call (the type's update does it).
Without ``x-undo`` a type is undone by hand only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from importer.errors import DocTypeError

VERBS = ("delete", "reverse", "void", "inactivate", "restore", "none")
_NEEDS_CALL = ("delete", "reverse", "void", "inactivate")
_CALL = re.compile(r"(DELETE|POST|PUT) (/\S+)")
# The token scope a request needs, by method (visma-api-notes.md §4.2).
SCOPE_OF = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}


@dataclass(frozen=True)
class UndoRule:
    do: str  # one of VERBS
    when: tuple[str, ...] = ()  # the statuses it applies to; empty: any
    call: str = ""  # "METHOD /path/{number}..."; empty for restore and none
    body: Any = None
    unpaid: tuple[str, str] | None = None
    done: tuple[str, ...] = ()
    note_type: str = ""  # release: the type of the document a reverse makes
    note_number: tuple[str, ...] = ()  # where the answer gives its number (dotted paths)

    @property
    def method(self) -> str:
        return self.call.partition(" ")[0] if self.call else ("PUT" if self.do == "restore" else "")

    @property
    def path(self) -> str:
        return self.call.partition(" ")[2]

    def scopes(self) -> set[str]:
        """The token scopes carrying the rule out takes (a note's release: create)."""
        needs = {SCOPE_OF[self.method]} if self.method else set()
        return needs | ({"create"} if self.note_type else set())


@dataclass(frozen=True)
class UndoRules:
    status: str
    volatile: tuple[str, ...]
    created: tuple[UndoRule, ...]
    updated: tuple[UndoRule, ...]
    by_hand: str

    def rule(self, did: str, status: str) -> UndoRule | None:
        """The rule for a document the run ``did`` (created, updated) that has
        ``status`` now; ``None``: the API cannot take it back."""
        for rule in self.created if did == "created" else self.updated:
            if not rule.when or status in rule.when:
                return rule
        return None


def undo_rules(schema: dict[str, Any], where: object = "the schema") -> UndoRules | None:
    """The ``x-undo`` of a type's schema (``None``: it has none), checked:
    a :class:`DocTypeError` that says what is wrong."""
    given = schema.get("x-undo")
    if given is None:
        return None
    if not isinstance(given, dict) or set(given) - {
        "status",
        "volatile",
        "created",
        "updated",
        "by-hand",
    }:
        raise DocTypeError(
            f"{where}: x-undo must be an object with status, volatile, created, updated and by-hand"
        )
    status, volatile, by_hand = (
        given.get("status", ""),
        given.get("volatile", []),
        given.get("by-hand", ""),
    )
    if not isinstance(status, str) or not isinstance(by_hand, str) or not _strings(volatile):
        raise DocTypeError(
            f"{where}: x-undo's status and by-hand are texts, volatile a list of field names"
        )
    return UndoRules(
        status,
        tuple(volatile),
        tuple(_rule(r, f"{where}: x-undo.created") for r in _list(given, "created", where)),
        tuple(_rule(r, f"{where}: x-undo.updated") for r in _list(given, "updated", where)),
        by_hand,
    )


def _list(given: dict[str, Any], key: str, where: object) -> list[Any]:
    rules = given.get(key, [])
    if not isinstance(rules, list):
        raise DocTypeError(f"{where}: x-undo.{key} must be a list of rules")
    return rules


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) and x for x in value)


def _rule(given: Any, where: str) -> UndoRule:
    keys = {"when", "do", "call", "body", "unpaid", "done", "release"}
    if not isinstance(given, dict) or set(given) - keys:
        raise DocTypeError(f"{where}: a rule is an object with {', '.join(sorted(keys))}")
    do = given.get("do")
    if do not in VERBS:
        raise DocTypeError(f"{where}: do must be one of {', '.join(VERBS)}, not {do!r}")
    call = given.get("call", "")
    if (do in _NEEDS_CALL) != bool(call) or (call and not _CALL.fullmatch(str(call))):
        raise DocTypeError(
            f"{where}: {do!r} takes "
            + ("a call such as 'DELETE /v1/x/{number}'" if do in _NEEDS_CALL else "no call")
        )
    when, done, unpaid = given.get("when", []), given.get("done", []), given.get("unpaid")
    if not _strings(when) or not _strings(done):
        raise DocTypeError(f"{where}: when and done are lists of statuses")
    if unpaid is not None and not (_strings(unpaid) and len(unpaid) == 2):
        raise DocTypeError(f"{where}: unpaid names two fields (balance, amount)")
    release = given.get("release")
    note_type, note_number = "", ()
    if release is not None:
        if (
            do != "reverse"
            or not isinstance(release, dict)
            or set(release) != {"type", "number"}
            or not isinstance(release["type"], str)
            or not _strings(release["number"])
        ):
            raise DocTypeError(
                f'{where}: release goes with reverse: {{"type": <a type>, "number": [<fields>]}}'
            )
        note_type, note_number = release["type"], tuple(release["number"])
    return UndoRule(
        do,
        tuple(when),
        str(call),
        given.get("body"),
        (unpaid[0], unpaid[1]) if unpaid else None,
        tuple(done),
        note_type,
        note_number,
    )
