"""Every message vnimport writes into a row's issue comes from the message
table (importer.codes.MESSAGES) by a key, with named parameters, so that a
language is added as data: here every issue that samples, the corpus and
files made to be wrong give is rendered again from its key and parameters,
and a made-up language is used where it has the key, English where not."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import string
from collections.abc import Iterable, Iterator
from pathlib import Path

import corpus
import pytest
from conftest import write_xlsx
from openpyxl import Workbook
from test_corpus import ISOLATED, KNOWN_BUGS
from test_preflight import preflight_batches
from test_schema_checks import declared_checks

from importer.batch import Batch, check
from importer.codes import CODES, MESSAGES, render_issue
from importer.doctypes import Registry
from importer.errors import VnimportError
from importer.issues import RowIssue
from importer.mapping.columns import build_column_map, join_column_maps
from importer.sources import table_from_rows

ROOT = Path(__file__).resolve().parents[1]

# Keys of messages that are not a row's issue made while checking the file:
# sending and rendering write them (see their own tests).
NOT_ROW_ISSUES = {
    "not-sent-stopped",
    "not-sent-at-once",
    "not-sent-fatal",
    "unknown-in-flight",
    "template-error",
    "unchanged",
    "already-created",
    "would-skip",
    "written",
    "written-update",
    "written-lookup",
    "written-interrupted",
    "internal-error",
    "in-progress",
    "unknown-kept",
    "unknown-deferred",
    "unknown-lookup",
    "unknown-twice",
    "unknown-stopped",
    "created-late",
    "refused-500",
    "exists",
    "number-assigned",
    "bad-number",
    "rate-limited",
    "bad-answer",
    "released",
    "release-refused",
    "release-pending",
    "release-unknown",
}
# What undo says of each document (tests/test_undo.py reaches every one).
NOT_ROW_ISSUES |= {
    *(f"undo-done.{s}" for s in ("deleted", "reversed", "voided", "inactivated", "restored")),
    "undo-done.restored-unseen",
    *(f"undo-would.{s}" for s in ("delete", "reverse", "release", "void", "inactivate")),
    "undo-would.restore",
    *("undo-nothing", "undo-nothing.already", "undo-gone", "undo-earlier", "undo-stopped"),
    *("undo-changed", "undo-changed.release", "undo-paid", "undo-by-hand", "undo-by-hand.type"),
    *("undo-no-etag", "undo-unknown", "undo-in-doubt", "undo-partial", "undo-no-copy"),
    *("undo-not-found", "undo-pending", "undo-refused", "undo-note-failed"),
}


def _issues(batch: Batch) -> Iterator[RowIssue]:
    yield from batch.warnings
    for row in batch.rows:
        yield from row.issues


def _fields(template: str) -> set[str]:
    """The parameters a message template names."""
    found = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            found.add(name.split(".")[0].split("[")[0])
    return found


# ------------------------------------------------------ files made to be wrong


def _invoices_wrong_in_every_cell(folder: Path) -> Iterable[Batch]:
    """Rows of customer invoices, each wrong in its own ways."""
    doctype = Registry().get("customer_invoice")
    header = ["Invoice number", "Customer number", "Invoice date", "Line description"]
    header += ["Quantity", "Unit price", "Mystery", "", "Discount %", "Line number"]
    header += ["On hold", "Exchange rate", "Invoice email", "Currency"]
    day = dt.date(2025, 1, 1)
    rows: list[list[object]] = [
        # 2: bad cells of every type
        ["1001", "0101", "2025-01-31", "a", "{oops}", 10, "", "", 150, 1.5, "maybe", 0],
        # 3: disagrees with row 2 on the customer; values the schema refuses
        ["1001", "0102", "2025-01-31", "b", day, 10, "", "", -1, 1, 5, 1, "nope", "nok"],
        # 4: no document key, no required values (it continues no document: 1001 has
        # a customer and a date of its own, so a blank key beside them is an error)
        ["", "", "", "c", 1, 10, "", ""],
        # 5, 6: a valid row held back by one invalid row
        ["1002", "0101", "2025-01-31", "d", 1, 10],
        ["1002", "0101", "2025-01-31", "e", True, 10],
        # 7 to 10: a valid row held back by three invalid rows
        ["1003", "0101", True, "f", 1, 10],
        ["1003", "0101", "2025-01-31", "g", 1, 10, "", "", 0, 1, day],
        ["1003", "0101", "2025-01-31", "h", float("inf"), 10],
        ["1003", "0101", "2025-01-31", "i", 1, 10],
        # 11, 12: text too long, a line with neither item nor description, no real dates
        ["1004", "12345678901", "31.02.2025", "", 1, 10],
        ["1005", "0101", 9999999, "j", 1, 10, "", "", "x"],
    ]
    yield check(table_from_rows(header, rows), doctype)
    yield check(
        table_from_rows(["Invoice number", "Customer number", "Invoice date"], [["1", "1", "x"]]),
        doctype,
    )
    # a blank key first (nothing to continue), a required value missing, a blank key
    # beside a header value, a column skipped and an unknown one left empty
    header = ["Invoice number", "Customer number", "Invoice date", "Line text", "Notat", "Farge"]
    rows = [
        ["", "", "", "a", "x", ""],
        ["2001", "", "2025-01-31", "b", "x", ""],
        ["", "0102", "", "c", "x", ""],
    ]
    yield check(table_from_rows(header, rows), doctype, skip=["Notat", "Ingen slik"])
    # total rows: one that agrees with its column, one that does not
    header = ["Invoice number", "Customer number", "Invoice date", "Line text", "Quantity"]
    for total in (2, 3):
        rows = [["3001", "0101", "2025-01-31", "a", 1], ["3002", "0101", "2025-01-31", "b", 1]]
        yield check(table_from_rows(header, [*rows, ["Totalt", "", "", "", total]]), doctype)
    # the same invoice again further down, apart from its lines
    header = ["Invoice number", "Customer number", "Invoice date", "Line text"]
    rows = [["4001", "0101", "2025-01-31", "a"], ["4002", "0101", "2025-01-31", "b"]]
    yield check(table_from_rows(header, [*rows, ["4001", "0101", "2025-01-31", "a"]]), doctype)
    # no key column: the same invoice twice
    rows = [["0101", "2025-01-31", "a"], ["0101", "2025-01-31", "a"]]
    yield check(table_from_rows(["Customer number", "Invoice date", "Line text"], rows), doctype)


def _customers_twice(folder: Path) -> Iterable[Batch]:
    doctype = Registry().get("customer")
    rows = [["1", "Kaffe AS", "Bogus"], ["1", "Te AS", "Active"]]
    yield check(table_from_rows(["Customer number", "Customer name", "Status"], rows), doctype)


def _two_sheets(folder: Path) -> Iterable[Batch]:
    """Invoices on one sheet, lines on another, joined wrongly."""
    wb = Workbook()
    head = wb.active
    head.title = "Invoices"
    for r in [
        ["Invoice number", "Customer number", "Invoice date"],
        ["1001", "0101", "2025-01-31"],
        ["1002", "0101", "2025-01-31"],  # no lines
        ["1001", "0101", "2025-01-31"],  # twice
    ]:
        head.append(r)
    lines = wb.create_sheet("Lines")
    for r in [
        ["Invoice number", "Line description", "Quantity", "Unit price", "Due date"],
        ["1001", "Kaffe", 1, 10, "2025-02-28"],  # a header field on the lines sheet
        ["9999", "Te", 1, 10],  # no such invoice
    ]:
        lines.append(r)
    path = folder / "two-sheets.xlsx"
    wb.save(path)
    yield check(path, Registry().get("customer_invoice"))


def _hidden(folder: Path) -> Iterable[Batch]:
    """Hidden sheets, columns and rows, one and many of each."""
    doctype = Registry().get("customer")
    for many in (False, True):
        wb = Workbook()
        ws = wb.active
        ws.title = "Kunder"
        ws.append(["Customer number", "Customer name", "Note", "Status"])
        for n in range(2, 7):
            ws.append([f"{n}", f"Kunde {n}", "", "Active"])
        ws.column_dimensions["C"].hidden = True
        ws.row_dimensions[3].hidden = True
        if many:
            ws.column_dimensions["D"].hidden = True
            ws.row_dimensions[4].hidden = True
        for name in ("Gammelt", "Arkiv")[: 1 + many]:
            old = wb.create_sheet(name)
            old.sheet_state = "hidden"
            old.append(["Customer number", "Customer name"])
            old.append(["1", "Kunde 1"])
        path = folder / f"hidden-{many}.xlsx"
        wb.save(path)
        yield check(path, doctype)
        yield check(path, doctype, sheet="Gammelt")


def _bad_cells_in_a_workbook(folder: Path) -> Iterable[Batch]:
    """Cells only a workbook holds: a time in a date column, a code that
    lost its leading zero (csv cells are all text)."""
    path = write_xlsx(
        folder / "cells.xlsx",
        [
            ["Invoice number", "Customer number", "Invoice date", "Line description", "On hold"],
            ["1", "0101", dt.time(12, 30), "a", dt.datetime(2025, 1, 1, 12, 0)],
            ["2", 102, "2025-01-31", "b"],
        ],
    )
    yield check(path, Registry().get("customer_invoice"))


def _own_type(folder: Path) -> Iterable[Batch]:
    """A type of the user's own, with schema keywords no shipped type uses."""
    schema = json.loads((ROOT / "schemas" / "customer.schema.json").read_text("utf-8"))
    schema["properties"].update(
        {
            "fixedCode": {"type": "string", "const": "A"},
            "step": {"type": "number", "multipleOf": 5},
            "notX": {"type": "string", "not": {"enum": ["X"]}},
            "shortCode": {"type": "string", "minLength": 3},
            "digits": {"type": "string", "pattern": "^[0-9]+$"},
            "either": {"type": "string", "oneOf": [{"minLength": 1}, {"maxLength": 5}]},
            "typed": {"type": "string", "allOf": [{"type": "integer"}]},
            "anyA": {"type": "string"},
            "anyB": {"type": "string"},
        }
    )
    schema["anyOf"] = [{"required": ["anyA"]}, {"required": ["anyB"]}]
    (folder / "messages_test.schema.json").write_text(json.dumps(schema), "utf-8")
    shutil.copy(ROOT / "templates" / "customer.json.j2", folder / "messages_test.json.j2")
    doctype = Registry([folder]).get("messages_test")
    header = ["Customer name", "fixedCode", "step", "notX", "shortCode", "digits", "either"]
    rows = [["Kaffe AS", "B", 7, "X", "ab", "12a", "abc", "x"]]
    yield check(table_from_rows([*header, "typed"], rows), doctype)


def _line_column_on_the_header_sheet() -> Iterator[RowIssue]:
    """join_column_maps alone: a line column on the header sheet (check()
    picks the sheets so that the header sheet has none)."""
    doctype = Registry().get("customer_invoice")
    head = table_from_rows(["Invoice number", "Customer number", "Invoice date", "Quantity"], [])
    head.sheet = "Invoices"
    lines = table_from_rows(["Invoice number", "Line description"], [])
    lines.sheet = "Lines"
    maps = [build_column_map(t, doctype, check_required=False) for t in (head, lines)]
    joined = join_column_maps(doctype, head, maps[0], lines, maps[1], "referenceNumber")
    yield from joined.warnings


def _a_register_that_lacks_a_value(folder: Path) -> Iterable[Batch]:
    """A mapping file reading a run's register, and an old number it lacks."""
    (folder / "register.csv").write_text("Key,Visma number\nK-1,10001\n", encoding="utf-8")
    (folder / "map.toml").write_text(
        '[values."Customer number"]\nfile = "register.csv"\nfrom = "Key"\nto = "Visma number"\n',
        encoding="utf-8",
    )
    header = ["Invoice number", "Customer number", "Invoice date"]
    rows = [["1", "K-1", "2025-01-31"], ["2", "K-2", "2025-01-31"]]
    yield check(
        table_from_rows(header, rows),
        Registry().get("customer_invoice"),
        mapping=folder / "map.toml",
    )


def _amounts_with_two_signs(folder: Path) -> Iterable[Batch]:
    """A price with a minus before and after: its sign is not guessed."""
    header = ["Invoice number", "Customer number", "Invoice date", "Line description"]
    rows = [["1", "0101", "2025-01-31", "a", 1, "-1 250-"]]
    yield check(
        table_from_rows([*header, "Quantity", "Unit price"], rows),
        Registry().get("customer_invoice"),
    )


MADE = [_invoices_wrong_in_every_cell, _customers_twice, _two_sheets, _hidden]
MADE += [_a_register_that_lacks_a_value, _amounts_with_two_signs]
MADE += [_bad_cells_in_a_workbook, _own_type]
MADE += [declared_checks]  # the checks the schemas declare (importer.checks)
MADE += [preflight_batches]  # against the company in Visma (importer.company_checks)


@pytest.fixture(scope="module")
def issues(tmp_path_factory: pytest.TempPathFactory) -> list[RowIssue]:
    """Every issue of the samples, of the corpus, and of the files above."""
    registry = Registry()
    found: list[RowIssue] = []
    for sample in sorted((ROOT / "samples").iterdir()):
        found += _issues(check(sample, registry.get(sample.name.split(".")[0])))
    folder = tmp_path_factory.mktemp("corpus")
    invoice = registry.get("customer_invoice")
    for name, make in corpus.CASES.items():
        if name in ISOLATED or name in KNOWN_BUGS:
            continue  # too big for this process, or refused whole (test_corpus.py)
        with contextlib.suppress(VnimportError):  # a file refused whole has no issues
            found += _issues(check(make(folder), invoice))
    made = tmp_path_factory.mktemp("made")
    for maker in MADE:
        for batch in maker(made):
            found += _issues(batch)
    found += _line_column_on_the_header_sheet()
    return found


def test_every_issue_renders_from_its_key_to_its_message(issues: list[RowIssue]) -> None:
    for issue in issues:
        assert issue.key in MESSAGES["en"], issue
        assert issue.code in CODES, issue
        assert issue.key.partition(".")[0] == issue.code or issue.key == "x-message", issue
        assert render_issue(issue, "en") == issue.message, issue
        norwegian = render_issue(issue, "nb")
        passed_on = MESSAGES["nb"][issue.key] == MESSAGES["en"][issue.key]  # {detail} as given
        assert norwegian and (norwegian != issue.message or passed_on), issue


def test_every_issue_gives_the_parameters_its_message_names(issues: list[RowIssue]) -> None:
    for issue in issues:
        assert {name for name, _ in issue.params} == _fields(MESSAGES["en"][issue.key]), issue


def test_every_message_of_a_row_is_reached(issues: list[RowIssue]) -> None:
    """No message in the table is dead text that a translator would
    translate for nothing."""
    reached = {i.key for i in issues}
    assert set(MESSAGES["en"]) - NOT_ROW_ISSUES - reached == set()
    assert {i.code for i in issues} - set(CODES) == set()


def test_user_text_goes_into_a_message_as_it_is(issues: list[RowIssue]) -> None:
    (issue,) = [i for i in issues if i.key == "type.number" and "oops" in i.message]
    assert issue.message == "expected a number, got '{oops}'"
    assert dict(issue.params) == {"text": "{oops}"}


def test_another_language_is_data(issues: list[RowIssue], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        MESSAGES,
        "xx",
        {
            "type.number": "forventet et tall, fikk {text!r}",
            "required": "{title} er tom; en verdi kreves",
        },
    )
    number = next(i for i in issues if i.key == "type.number" and "oops" in i.message)
    assert render_issue(number, "xx") == "forventet et tall, fikk '{oops}'"
    required = next(i for i in issues if i.key == "required")
    title = dict(required.params)["title"]
    assert render_issue(required, "xx") == f"{title} er tom; en verdi kreves"
    assert required.message == f"{title} is empty; a value is required"
    others = [i for i in issues if i.key not in MESSAGES["xx"]]
    assert others
    assert all(render_issue(i, "xx") == i.message for i in others)  # English, where xx has none


def test_a_message_from_elsewhere_stays_as_it_is() -> None:
    issue = RowIssue(2, "", "http-400", "Visma: the customer class does not exist")
    assert render_issue(issue, "nb") == issue.message


def test_a_document_type_as_a_user_writes_it(tmp_path: Path) -> None:
    """Codes for the schema keywords vnimport has words for, and jsonschema's
    own words for the rest."""
    (batch,) = _own_type(tmp_path)
    found = {(i.column, i.code): i.message for r in batch.rows for i in r.issues}
    assert found[("fixedCode", "const")] == "'B' is not allowed; the value must be 'A'"
    assert found[("step", "multiple-of")] == "7 is not a multiple of 5"
    assert found[("notX", "not")] == "'X' is not allowed"
    assert found[("shortCode", "too-short")] == "is shorter than 3 characters"
    assert found[("digits", "pattern")] == "'12a' does not have the expected form"
    assert found[("typed", "type")] == "expected integer, got 'x'"
    assert found[("", "incomplete")] == "the row is missing one of the fields it needs"
    assert "oneOf" in found[("either", "schema")]
