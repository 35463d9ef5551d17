"""Every text of the web app's pages has its Norwegian (bokmål): the texts
are found where they are used (``_("...")`` in the templates, ``gettext(...)``
in the modules), so a page is never half translated; and the language
follows the browser unless the user chose one.

``.venv/bin/python tests/test_web_i18n.py`` prints the texts still missing
from ``importer/web/locale/nb.json``.
"""

from __future__ import annotations

import ast
import json
import string
import sys
from pathlib import Path

import pytest

pytest.importorskip("flask")

from jinja2 import Environment
from jinja2.ext import extract_from_ast

from importer.web.i18n import catalogue, choose

WEB = Path(__file__).resolve().parents[1] / "importer" / "web"


def used_texts() -> dict[str, str]:
    """Each text asked for, and where."""
    found: dict[str, str] = {}
    env = Environment()
    for path in sorted((WEB / "templates").glob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for _line, _func, found_text in extract_from_ast(tree, gettext_functions=("_",)):
            # with parameters, Jinja gives the call's arguments as a tuple
            text = found_text[0] if isinstance(found_text, tuple) else found_text
            if isinstance(text, str):
                found.setdefault(text, path.name)
    for path in sorted(WEB.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("gettext", "_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, path.name)
    return found


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_text_of_the_pages_has_its_norwegian() -> None:
    nb = catalogue("nb")
    missing = {t: where for t, where in used_texts().items() if t not in nb}
    assert missing == {}, "run tests/test_web_i18n.py to list them"


def test_a_translation_keeps_the_parameters_of_its_text() -> None:
    for text, translated in catalogue("nb").items():
        assert _fields(translated) == _fields(text), text


def test_no_translation_is_left_over() -> None:
    used = used_texts()
    assert sorted(set(catalogue("nb")) - set(used)) == []


@pytest.mark.parametrize(
    ("accept", "chosen", "expected"),
    [
        ("nb-NO,nb;q=0.9,en;q=0.8", None, "nb"),
        ("no", None, "nb"),
        ("nn-NO", None, "nb"),
        ("sv-SE,en;q=0.5", None, "en"),
        ("en-GB,nb;q=0.9", None, "en"),
        ("de,nb;q=0.7,en;q=0.3", None, "nb"),
        (None, None, "en"),
        ("nb", "en", "en"),
        ("garbage;q=x", None, "en"),
    ],
)
def test_the_language_is_the_users_choice_else_the_browsers(
    accept: str | None, chosen: str | None, expected: str
) -> None:
    assert choose(accept, chosen) == expected


if __name__ == "__main__":
    nb = catalogue("nb")
    todo = {t: "" for t in used_texts() if t not in nb}
    print(json.dumps(todo, ensure_ascii=False, indent=1))
    print(f"{len(todo)} missing", file=sys.stderr)
