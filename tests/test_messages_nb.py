"""Norwegian (bokmål) for the whole catalogue (importer.messages_nb): every
English message has its Norwegian with the same parameters, every code and
every status a Norwegian title, and a row's issue is said in Norwegian when
asked, in English by default."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from conftest import write_csv
from test_messages import issues  # noqa: F401  (the fixture: every issue files give)

from importer import check, load_type
from importer.codes import (
    CODES,
    MESSAGES,
    STATUSES,
    message,
    render,
    render_issue,
    status_title,
    title,
)
from importer.issues import RowIssue
from importer.messages_nb import MESSAGES_NB, STATUS_TITLES_NB, TITLES_NB

Field = tuple[str, str | None, str]


def _fields(template: str) -> set[Field]:
    """Each ``{name!conversion:spec}`` of ``template``."""
    return {
        (name, conversion, spec)
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None
    }


def _backticked(template: str) -> list[str]:
    return re.findall(r"`[^`]+`", template)


def _options(template: str) -> set[str]:
    return set(re.findall(r"--[a-z][a-z-]*", template))


def test_every_english_message_has_its_norwegian() -> None:
    assert set(MESSAGES_NB) == set(MESSAGES["en"])
    assert MESSAGES["nb"] == MESSAGES_NB
    assert all(text.strip() for text in MESSAGES_NB.values())


@pytest.mark.parametrize("key", sorted(MESSAGES["en"]))
def test_the_norwegian_keeps_the_parameters(key: str) -> None:
    english, norwegian = MESSAGES["en"][key], MESSAGES_NB[key]
    assert _fields(norwegian) == _fields(english)
    assert _backticked(norwegian) == _backticked(english)
    assert _options(norwegian) == _options(english)


@pytest.mark.parametrize("key", sorted(MESSAGES["en"]))
def test_a_fragment_stays_a_fragment(key: str) -> None:
    """A message that starts in lower case in English does in Norwegian too
    (it is joined into a longer text); one that is said from its parameter on
    starts with the same parameter."""
    english, norwegian = MESSAGES["en"][key], MESSAGES_NB[key]
    if english[0].islower():
        assert norwegian[0].islower(), norwegian
    if english.startswith("{"):
        assert norwegian.startswith(english[: english.index("}") + 1]), norwegian


@pytest.mark.parametrize("key", sorted(MESSAGES["en"]))
def test_the_norwegian_renders(key: str) -> None:
    params = {name: 1.5 if spec else f"<{name}>" for name, _, spec in _fields(MESSAGES["en"][key])}
    text = render(key, params, "nb")
    assert text != render(key, params) or key in ("schema", "x-message")


def test_no_title_is_left_over() -> None:
    assert set(TITLES_NB) == set(CODES)
    assert set(STATUS_TITLES_NB) == set(STATUSES)


def test_every_code_has_a_norwegian_title() -> None:
    for code in CODES:
        assert title(code) == CODES[code].title
        assert title(code, "en") == CODES[code].title
        assert title(code, lang="nb") == TITLES_NB[code]
        assert TITLES_NB[code] != CODES[code].title
    assert title("http-418") == "Visma answered 418"
    assert title("http-418", "nb") == "Visma svarte 418"
    assert title("no-such-code", "nb") == "no-such-code"
    assert title("closed-period", "sv") == CODES["closed-period"].title  # English where none


def test_every_status_has_a_norwegian_title() -> None:
    for status in STATUSES:
        assert status_title(status) == STATUSES[status].title
        assert status_title(status, lang="nb") == STATUS_TITLES_NB[status]
        assert STATUS_TITLES_NB[status] != STATUSES[status].title
    assert status_title("created", "nb") == "Opprettet i Visma"
    assert status_title("no such status", "nb") == "no such status"
    assert status_title("created", "sv") == "Created in Visma"


def test_message_in_norwegian() -> None:
    assert message("not-sent-stopped") == "not sent: the run was stopped before this document"
    assert message("not-sent-stopped", lang="nb") == (
        "ikke sendt: kjøringen ble stoppet før dette dokumentet"
    )
    assert message("undo-gone", lang="sv") == message("undo-gone")  # English where none


def test_a_checked_file_says_its_issues_in_norwegian(tmp_path: Path) -> None:
    rows = [
        ["Customer number", "Customer name", "Credit limit"],
        ["10001", "Alfa AS", "1000"],
        ["10002", "", "lots"],
    ]
    batch = check(write_csv(tmp_path / "c.csv", rows), load_type("customer"))
    found = [i for r in batch.rows for i in r.issues if i.key]
    by_key = {i.key: i for i in found}
    assert {"required", "type.number"} <= set(by_key), found
    for issue in found:
        assert render_issue(issue) == issue.message
        assert render_issue(issue, "nb") == render(issue.key, dict(issue.params), "nb")
        assert render_issue(issue, "nb") != issue.message
    required = by_key["required"]
    assert (
        render_issue(required, "nb")
        == f"{dict(required.params)['title']} er tom; en verdi er påkrevd"
    )
    assert render_issue(by_key["type.number"], lang="nb") == "forventet et tall, fikk 'lots'"


def test_a_made_issue_in_norwegian_and_english() -> None:
    issue = RowIssue.from_key(3, "Amount", "negative", {"title": "Amount", "value": -5})
    assert issue.message == "Amount is negative (-5)"
    assert render_issue(issue) == "Amount is negative (-5)"
    assert render_issue(issue, "nb") == "Amount er negativ (-5)"
    foreign = RowIssue(2, "", "http-400", "Visma: the customer class does not exist")
    assert render_issue(foreign, "nb") == foreign.message  # no key: as it was written


def test_every_issue_files_give_renders_in_norwegian(issues: list[RowIssue]) -> None:  # noqa: F811
    """Every issue samples, the corpus and files made to be wrong give
    (tests/test_messages.py) is said in Norwegian from its key and parameters."""
    for issue in issues:
        norwegian = render_issue(issue, "nb")
        assert norwegian == MESSAGES_NB[issue.key].format_map(dict(issue.params)), issue
        assert norwegian != issue.message or issue.key in ("schema", "x-message"), issue
        assert render_issue(issue) == issue.message, issue
