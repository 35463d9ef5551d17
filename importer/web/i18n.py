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

__all__ = ["LANGUAGES", "catalogue", "choose", "gettext", "language", "said"]

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
