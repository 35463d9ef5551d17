"""The pages' language: English, or Norwegian (bokmål) when the browser
asks for it first (``Accept-Language``), or when the user chose it (the
language links at the foot of each page, kept in the session).

A text is written in English where it is used, ``_("Sign in")`` in Python
and ``{{ _("Sign in") }}`` in a template, with ``{name}`` parameters
filled by keyword: ``_("{n} rows", n=3)``. ``locale/nb.json`` maps each
English text to its Norwegian one; a test finds every text used and fails
on one without its translation, so a page is never half translated. A text
missing at run time (a message from the library, say) is shown in English.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import g, request, session
from markupsafe import Markup

__all__ = [
    "LANGUAGES",
    "action_kind",
    "catalogue",
    "choose",
    "counts_shown",
    "gettext",
    "language",
    "role_name",
    "run_status",
    "said",
    "status_shown",
    "status_title",
    "undo_status",
]

LANGUAGES = {"en": "English", "nb": "Norsk (bokmål)"}
#: Browser language tags read as bokmål: Norwegian, bokmål and nynorsk.
_NORWEGIAN = {"nb", "no", "nn"}


@cache
def catalogue(lang: str) -> dict[str, str]:
    """English text → the text in ``lang`` (empty for English)."""
    if lang == "en":
        return {}
    path = Path(__file__).with_name("locale") / f"{lang}.json"
    texts: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return texts


def choose(accept: str | None, chosen: str | None) -> str:
    """The language of a request: the user's choice, else the first of the
    browser's languages this app has, else English."""
    if chosen in LANGUAGES:
        return str(chosen)
    best, best_q = "en", 0.0
    for position, part in enumerate((accept or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        lang = "nb" if primary in _NORWEGIAN else primary if primary in LANGUAGES else ""
        # earlier tags win ties, as the browser listed them in its order
        if lang and q > best_q and q > 0:
            best, best_q = lang, q - position * 1e-6
    return best


def language() -> str:
    """The language of the request being answered."""
    lang = g.get("lang")
    if lang is None:
        lang = choose(request.headers.get("Accept-Language"), session.get("lang"))
        g.lang = lang
    return str(lang)


def gettext(text: str, **params: object) -> str:
    """``text`` in the request's language, its ``{name}`` parameters filled."""
    translated = catalogue(language()).get(text, text)
    return translated.format(**params) if params else translated


def said(value: object) -> str:
    """A text kept in each language (``{"en": ..., "nb": ...}``: a
    problem's message, a code's title) in the request's language; a plain
    text (kept before the pages had languages) as it is."""
    if isinstance(value, dict):
        return str(value.get(language()) or value.get("en", ""))
    return "" if value is None else str(value)


# ------------------------------------------------- words the pages show


def status_title(status: object) -> str:
    """A row's or a document's status (``created``, ``invalid``, ...) in the
    request's language (:func:`importer.codes.status_title`)."""
    from importer.codes import status_title as title

    return title(str(status or ""), language())


def status_shown(status: object) -> Markup:
    """A row's or a document's status for a page: its title in the reader's
    language, and the status itself as the report writes it (a ``<code>``),
    so the page and the report are read side by side."""
    code = str(status or "")
    shown = status_title(code)
    if shown == code:
        return Markup("{}").format(code)
    return Markup('{} <code class="status">{}</code>').format(shown, code)


def counts_shown(counts: object, unit: str = "rows") -> str:
    """Counts by status, ``{"created": 2, "invalid": 1}``, as words that
    say what they count: ``2 rows created in Visma; 1 row invalid ...``."""
    if not isinstance(counts, dict):
        return ""
    parts = []
    for status, n in counts.items():
        if unit == "documents":
            what = gettext("1 document") if n == 1 else gettext("{n} documents", n=n)
        else:
            what = gettext("1 row") if n == 1 else gettext("{n} rows", n=n)
        parts.append(f"{what}: {status_title(status)}")
    return "; ".join(parts)


def run_status(status: object) -> str:
    """A web run's or an action's status in the request's language."""
    names = {
        "queued": gettext("queued"),
        "running": gettext("running"),
        "finished": gettext("finished"),
        "failed": gettext("failed"),
        "stopped": gettext("stopped"),
        "interrupted": gettext("interrupted"),
    }
    return names.get(str(status), str(status))


def role_name(role: object) -> str:
    """A user's role, as the header and the users page show it."""
    names = {
        "own": gettext("own batches"),
        "company": gettext("the company's batches"),
        "admin": gettext("administrator"),
    }
    return names.get(str(role), str(role))


def action_kind(kind: object) -> str:
    """What an action of a run is: a reconciliation, an undo or its dry run."""
    names = {
        "reconcile": gettext("reconciliation"),
        "undo": gettext("undo"),
        "undo-preview": gettext("undo, dry run"),
    }
    return names.get(str(kind), str(kind))


def undo_status(status: object) -> str:
    """What an undo did, or would do, to a document, in the request's language."""
    names = {
        "deleted": gettext("deleted"),
        "reversed": gettext("reversed"),
        "voided": gettext("voided"),
        "inactivated": gettext("inactivated"),
        "restored": gettext("restored"),
        "nothing to undo": gettext("nothing to undo"),
        "would delete": gettext("would delete"),
        "would reverse": gettext("would reverse"),
        "would void": gettext("would void"),
        "would inactivate": gettext("would inactivate"),
        "would restore": gettext("would restore"),
        "would release": gettext("would release"),
        "manual": gettext("by hand"),
        "failed": gettext("failed"),
        "not undone": gettext("not undone"),
    }
    return names.get(str(status), str(status))
