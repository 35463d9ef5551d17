"""The catalogue: every problem code and every row status, as data.

A code names one kind of problem, in kebab case, and never changes: reports,
the CLI and the web app show it, and scripts match on it. A status is what
became of a row. Each has a title; each status says whether it is final and
which exit code it leads to. Messages vnimport writes itself are rendered
from :data:`MESSAGES` with parameters, one table per language, so a language
is added as data (``message("not-sent-stopped", lang="nb")``); a row's issue
keeps its message's key and parameters (``render_issue(issue, lang="nb")``).
Norwegian (bokmål) is in :mod:`importer.messages_nb`, titles too:
``title(code, lang="nb")``, ``status_title(status, lang="nb")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from importer.messages_nb import MESSAGES_NB, STATUS_TITLES_NB, TITLES_NB

if TYPE_CHECKING:
    from importer.issues import RowIssue

Stage = Literal["file", "row", "send"]


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    stage: Stage  # where it is found: reading the file, checking a row, sending
    title: str


@dataclass(frozen=True, slots=True)
class Status:
    name: str
    title: str
    final: bool  # nothing more will happen to the row without the user
    exit_code: int  # 0 fine, 1 the user has rows to look at


_CODES = [
    # reading and mapping the file (file-level problems and warnings)
    Code("error", "file", "vnimport stopped"),
    Code("file-error", "file", "The file cannot be read"),
    Code("column-error", "file", "The header row cannot be used"),
    Code("doctype-error", "file", "The document type is unknown or broken"),
    Code("config-error", "file", "The settings are missing or wrong"),
    Code("auth-error", "send", "Visma.net refused the credentials"),
    Code("redirect", "send", "Visma.net answered with a redirect that is not followed"),
    Code("bad-number", "send", "The document number cannot be part of an address"),
    Code("internal-error", "send", "vnimport failed (a bug)"),
    Code("visma-error", "send", "Visma.net did not answer what the run must know first"),
    Code("journal-error", "send", "The journal cannot be used, or was lost during the run"),
    Code("in-progress", "send", "Another run is sending this document"),
    Code("encoding", "file", "The csv file is not UTF-8"),
    Code("hidden-sheet", "file", "A sheet is hidden in Excel"),
    Code("hidden-column", "file", "A column is hidden in Excel"),
    Code("hidden-row", "file", "Rows are hidden in Excel"),
    Code("other-sheet", "file", "Other sheets were not read"),
    Code("unknown-column", "file", "A column vnimport does not know"),
    Code("skipped-column", "file", "A column the mapping leaves out"),
    Code("mapping-unused", "file", "A mapping rule matches no column"),
    # checking rows
    Code("required", "row", "A value is required"),
    Code("type", "row", "The value has the wrong type"),
    Code("unmapped", "row", "A value the mapping file's register does not have"),
    Code("enum", "row", "The value is not one of those allowed"),
    Code("format", "row", "The value does not have the required format"),
    Code("pattern", "row", "The value does not have the expected form"),
    Code("too-long", "row", "The text is too long"),
    Code("too-short", "row", "The text is too short"),
    Code("too-small", "row", "The number is below the minimum"),
    Code("too-large", "row", "The number is above the maximum"),
    Code("incomplete", "row", "The row is missing a field it needs"),
    Code("const", "row", "The value is not the one allowed"),
    Code("multiple-of", "row", "The number is not a multiple of the step allowed"),
    Code("not", "row", "The value is one the document type rules out"),
    Code("schema", "row", "The value breaks a rule of the document type"),
    Code("invalid-date", "row", "The date cannot be read"),
    Code("excel-error", "row", "The cell shows an Excel error"),
    Code("control-character", "row", "The cell holds a control character"),
    Code("number-code", "row", "A code may have lost its leading zeros"),
    Code("control-total", "row", "A control total disagrees with the values it checks"),
    Code("not-before", "row", "A date is before the date it cannot precede"),
    Code("negative", "row", "A number is negative where it should not be"),
    Code("emails", "row", "More e-mail addresses than the field takes"),
    Code("conflicting-header", "row", "The document's rows disagree"),
    Code("duplicate-key", "row", "The document is in the file twice"),
    Code("missing-key", "row", "The row has no document key"),
    Code("continuation-header", "row", "A row continuing a document fills a header cell"),
    Code("total-row", "row", "A total row disagrees with the sum of its column"),
    Code("unknown-key", "row", "The line's document is not on the header sheet"),
    Code("no-lines", "row", "The document has no lines"),
    Code("document-invalid", "row", "Another row of the document is invalid"),
    Code("template-error", "row", "The document type's template failed on this document"),
    # checking rows against the company in Visma (importer.company_checks)
    Code("unknown-reference", "row", "The company in Visma has no such customer, item, code ..."),
    Code("closed-period", "row", "The document's financial period is closed in Visma"),
    Code("name-mismatch", "row", "The name is not the one Visma has for the number"),
    Code("already-in-visma", "row", "The document is in Visma already"),
    # sending
    Code("http-400", "send", "Visma refused the request (400)"),
    Code("http-404", "send", "Visma does not have the document (404)"),
    Code("http-409", "send", "Visma reports a conflict (409)"),
    Code("http-412", "send", "The document changed in Visma since it was read (412)"),
    Code("http-4xx", "send", "Visma refused the request"),
    Code("http-5xx", "send", "Visma failed to answer the request"),
    Code("outcome-unknown", "send", "No answer from Visma: check the document there"),
    Code("not-found", "send", "The document to update is not in Visma"),
    Code("no-reference", "send", "The document cannot be looked up in Visma"),
    Code("already-created", "send", "The document was created before, and changed since"),
    Code("release-refused", "send", "Visma refused to release the document"),
    Code("release-pending", "send", "The release was still queued in Visma when the run went on"),
    Code("rate-limited", "send", "Not sent: Visma's rate limit asked for too long a wait"),
    Code("bad-answer", "send", "Visma's answer was not what the API promises"),
    Code("number-assigned", "send", "Visma gave the document another number than the file"),
    Code("stopped", "send", "The run was stopped before this document was sent"),
    # taking a run back (importer.undo.run)
    Code("undo-changed", "send", "Changed in Visma since the run: left for a person"),
    Code("undo-paid", "send", "Paid since the run: left for a person"),
    Code("undo-by-hand", "send", "The API cannot take it back: to do in Visma by hand"),
    Code("undo-no-etag", "send", "Whether it changed since the run cannot be told"),
    Code("undo-unknown", "send", "The run got no answer for it: check in Visma"),
    Code("undo-in-doubt", "send", "An earlier undo got no answer for a step: check in Visma"),
    Code("undo-partial", "send", "Put back, but not all of it as it was"),
    Code("undo-no-copy", "send", "The journal has no copy from before the run"),
    Code("undo-not-found", "send", "Not in Visma any more: it cannot be put back"),
    Code("undo-gone", "send", "Not in Visma any more: nothing to take back"),
    Code("undo-pending", "send", "Visma had not finished the step when undo went on"),
]
CODES: dict[str, Code] = {c.code: c for c in _CODES}

_STATUSES = [
    Status("valid", "Valid: ready to send", True, 0),
    Status("written", "Written to the requests file (not sent)", True, 0),
    Status("created", "Created in Visma", True, 0),
    Status("updated", "Updated in Visma", True, 0),
    Status("unchanged", "Already in Visma as in the file", True, 0),
    Status("invalid", "Invalid: fix the row", True, 1),
    Status("failed", "Refused by Visma or not sent", True, 1),
    Status("exists in Visma", "Already in Visma (found by its number or reference)", True, 0),
    Status("skipped", "Not sent, on purpose (see the message)", True, 1),
    Status("not sent", "Not sent: the run stopped first", True, 1),
    Status("unknown", "Sent, but no answer: check in Visma", True, 1),
]
STATUSES: dict[str, Status] = {s.name: s for s in _STATUSES}

#: Messages vnimport writes itself, by language, with ``{parameters}``. A key
#: is a problem code, or ``code.variant`` where one code says more than one
#: thing (``type.whole``); a row's issue keeps its key and parameters, so
#: :func:`render_issue` can say it in any language here. Parameters that hold
#: the user's own text are inserted as they are (``{value!r}`` quotes them).
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # reading the file (table notes and column warnings)
        "encoding": (
            "the file is not UTF-8; it was read as {encoding}: check that the letters "
            "beyond A-Z (æ ø å, ä ö, or the file's own alphabet) look right in the result"
        ),
        "hidden-sheet": "sheet {sheet!r} is hidden in Excel; it was read",
        "hidden-sheet.others": "the workbook has hidden sheets ({sheets}); they were not read",
        "hidden-column": (
            "column {columns} is hidden in Excel; hidden columns are imported like the others"
        ),
        "hidden-column.many": (
            "columns {columns} are hidden in Excel; hidden columns are imported like the others"
        ),
        "hidden-row": (
            "{count} row ({rows}) is hidden in Excel, perhaps by a filter; "
            "hidden rows are imported like the others"
        ),
        "hidden-row.many": (
            "{count} rows ({rows}) are hidden in Excel, perhaps by a filter; "
            "hidden rows are imported like the others"
        ),
        "unknown-column.empty": (
            "column {letter} {header!r} is not a field of {doctype}; it is empty, so "
            "nothing is lost"
        ),
        "skipped-column": "column {letter} {header!r} is left out, as {source} says",
        "mapping-unused": ("{rule} of {source} matches no column of this file; check its spelling"),
        "other-sheet.header": (
            "column {letter} {header!r} of sheet {sheet!r} is not imported: header fields "
            "are read from sheet {other!r}"
        ),
        "other-sheet.line": (
            "column {letter} {header!r} of sheet {sheet!r} is not imported: line fields "
            "are read from sheet {other!r}"
        ),
        # reading a cell
        "excel-error": (
            "the cell shows {error}, an error in the workbook's formula: correct it in Excel"
        ),
        "control-character": (
            "the cell holds an invisible control character (such as NUL) that is not text; "
            "the file is damaged or was exported wrongly: type the value again"
        ),
        "unmapped": (
            '{value!r} is not in {file} ([values."{target}"] of the mapping file): '
            "add it there, or correct the value"
        ),
        "type.number": "expected a number, got {text!r}",
        "type.number-bool": "expected a number, got {value}",
        "type.number-cell": "expected a number, got a {kind}",
        "type.number-infinite": "expected a number",
        "type.number-signs": (
            "{text!r} has more than one sign (a minus before or after, or brackets), so "
            "whether it is negative is a guess: write one, such as -1250, 1250- or (1250)"
        ),
        "type.whole": "expected a whole number, got {value}",
        "type.boolean": "expected yes or no (true/false), got {text!r}",
        "type.boolean-number": "expected yes or no, got a number ({value})",
        "type.boolean-cell": "expected yes or no, got a {kind}",
        "invalid-date": "{text!r} is not a date; write it as 2025-01-31 or 31.01.2025",
        "invalid-date.unreal": "{text!r} is not a real date",
        "invalid-date.serial": (
            "{value:g} is not a date (as an Excel date number it is out of range)"
        ),
        "invalid-date.number": "expected a date, got a number ({value})",
        "invalid-date.cell": "expected a date, got a {kind}",
        "number-code": (
            "{header} {digits} is a number cell, and Excel drops leading zeros from numbers "
            "(other values look like {example!r}); if it was {padded}, format the column "
            "as Text in Excel and type it again"
        ),
        # checking a row against the schema
        "required": "{title} is empty; a value is required",
        "type": "expected {types}, got {value!r}",
        "enum": "{value!r} is not allowed; use one of: {allowed}",
        "format": "{value!r} is not a valid {format}",
        "pattern": "{value!r} does not have the expected form",
        "too-long": "is longer than {limit} characters",
        "too-short": "is shorter than {limit} characters",
        "too-small": "{value!r} is below the minimum {limit}",
        "too-large": "{value!r} is above the maximum {limit}",
        "incomplete": "the row is missing one of the fields it needs",
        "const": "{value!r} is not allowed; the value must be {expected!r}",
        "multiple-of": "{value!r} is not a multiple of {step}",
        "not": "{value!r} is not allowed",
        "schema": "{detail}",  # jsonschema's own words, for a keyword vnimport has none for
        "x-message": "{text}",  # the schema's x-message: the document type's own words
        # checks the document type declares (importer.checks)
        "control-total.line": (
            "{title} {value} does not agree with the line: {formula} = {expected}"
        ),
        "control-total.amount": (
            "{title} {value} does not agree with {amount} {given} on the same line"
        ),
        "control-total.discount": (
            "{title} {value} is not {percent} % of {gross} ({expected}); give the discount "
            "one way, or make the two agree"
        ),
        "control-total.no-basis": (
            "{title} {value} is only a control total, not sent to Visma, and the line has no "
            "{missing} to check it against, so the amount would be lost: fill {missing}, or "
            "put the amount in {amount} to import it"
        ),
        "control-total.no-basis-plain": (
            "{title} {value} is only a control total, not sent to Visma, and the line has no "
            "{missing} to check it against, so the amount would be lost: fill {missing}"
        ),
        "control-total.unchecked": (
            "{title} {value} was not checked: the line has no {price}, so Visma takes the "
            "item's own price; fill {price} to have the total checked"
        ),
        "control-total.document": (
            "{title} {value} does not agree with the sum of the document's {count} lines, "
            "{expected} (excluding VAT)"
        ),
        "control-total.document-unchecked": (
            "{title} {value} was not checked: the line on row {row} has no amount, nor "
            "{quantity} and {price} to compute it from"
        ),
        "not-before": "{title} {value} is before {than} {limit}",
        "not-before.refused": (
            "{title} {value} is before {than} {limit}; Visma refuses such a document"
        ),
        "negative": "{title} is negative ({value})",
        "negative.invoice": (
            "{title} is negative ({value}): to credit the customer, use a credit note rather "
            "than a negative invoice line"
        ),
        "negative.credit-note": (
            "{title} is negative ({value}): a credit note's lines are positive; to charge the "
            "customer, use an invoice or a debit note"
        ),
        "negative.debit-note": (
            "{title} is negative ({value}): to credit the customer, use a credit note rather "
            "than a negative debit note line"
        ),
        "negative.supplier": (
            "{title} is negative ({value}): the document type gives the sign; for a credit "
            "from the supplier, use the document type CreditAdj with positive lines"
        ),
        "negative.order": (
            "{title} is negative ({value}): a purchase order orders a quantity; Visma refuses "
            "a negative one"
        ),
        "emails.one": ("{title} takes one e-mail address, and the cell has {count}; keep one"),
        # grouping rows into documents
        "missing-key": "{title} is empty; it says which document this row belongs to",
        "missing-key.natural": (
            "a {doctype} without a number needs {fields}, so that it can be found in Visma "
            "and is never created twice; fill one of them"
        ),
        "duplicate-key": (
            "{title} {value!r} is already on row {first}; each {doctype} must appear once"
        ),
        "duplicate-key.apart": (
            "{title} {value!r} comes again here, apart from its rows {rows} above, with the "
            "same line as row {twin}: this looks like the same {doctype} twice; keep one "
            "copy (or, if it really has that line twice, put its lines together)"
        ),
        "duplicate-key.sheet": (
            "{title} {value!r} is already on row {first} of sheet {sheet!r}; "
            "each {doctype} has one row there"
        ),
        "total-row": (
            "{title} {value} in the total row is not the sum of the column above, {sum}: a "
            "number may have been read otherwise than you meant, or a row is missing; the "
            "total row itself is never imported"
        ),
        "total-row.agrees": (
            "row {row} is a total row ({label!r}); its amounts agree with the rows above, and it "
            "is not imported"
        ),
        "continuation-header": (
            "{title} is empty, so this row continues {doctype} {document!r} above, but "
            "{field} is filled: a continuing row leaves every header column empty (a sorted "
            "or filtered sheet would attach it to the wrong {doctype}); fill {title}, or "
            "empty {field}"
        ),
        "duplicate-key.content": (
            "this {doctype} is the same as the one on row {first}, line for line; each "
            "{doctype} must appear once"
        ),
        "unknown-key": "{title} {value!r} is on no row of sheet {sheet!r}",
        "no-lines": (
            "no row of sheet {sheet!r} has {title} {value!r}; a {doctype} needs at least one line"
        ),
        "conflicting-header": (
            "{title} is {value!r} here but {known!r} on row {first} "
            "of the same document {document!r}"
        ),
        "document-invalid": (
            "not imported: row {rows} of the same document {document!r} has errors"
        ),
        "document-invalid.many": (
            "not imported: rows {rows} of the same document {document!r} has errors"
        ),
        # checking against the company in Visma (importer.company_checks)
        "unknown-reference": (
            "{value!r} is not one of the company's {things} in Visma; the closest: {closest}"
        ),
        "unknown-reference.by-name": (
            "{value!r} is not one of the company's {things} in Visma; the name beside it, "
            "{name!r}, is {thing} {match} there"
        ),
        "unknown-reference.segment": (
            "{value!r} is not a value of segment {segment} ({segment_title}) of the "
            "company's subaccounts in Visma; the closest: {closest}"
        ),
        "unknown-reference.no-segment": (
            "the company's subaccounts in Visma have no segment {segment}; their segments "
            "are {segments}"
        ),
        "closed-period": (
            "{title} {value} is in the financial period {period}, which is closed in the "
            "{ledger} in Visma; the open periods nearest to it: {closest}"
        ),
        "name-mismatch": (
            "{value!r} is not the name Visma has for {thing} {number}, {known!r}: check "
            "{number_title}"
        ),
        "name-mismatch.elsewhere": (
            "{value!r} is not the name Visma has for {thing} {number}, {known!r}, but the "
            "name of {thing} {match}: check {number_title}"
        ),
        "already-in-visma": (
            "{title} {value!r} is in Visma already, as {number}; a run in create mode does "
            "not create it again"
        ),
        # sending
        "not-sent-stopped": "not sent: the run was stopped before this document",
        "not-sent-at-once": "not sent: the run was stopped at once, before this document",
        "not-sent-fatal": "not sent: the run stopped after a fatal error ({why})",
        "unknown-in-flight": (
            "sent, and the run was stopped before Visma answered: check in Visma "
            "whether it is there before importing it again (the next run looks it up)"
        ),
        "template-error": "the template {template} failed on this document: {detail}",
        "unchanged": "already in Visma as sent before",
        "exists": "already in Visma as {number} (found by its number or reference); not created",
        "bad-number": (
            "the number {number!r} cannot be a document's number (it would change the "
            "address of the request); nothing was sent"
        ),
        "number-assigned": (
            "created as {number}, not as {wanted}: Visma's number series gave it its own "
            "number although the request asked for the file's (overrideNumberSeries); "
            "allow manual numbers in the series, or use Visma's number"
        ),
        "in-progress": (
            "in progress in run {run}: another run is sending it now; run this file again "
            "when that run has finished"
        ),
        "unknown-deferred": "no clear answer ({detail}); looked up at the end of the run",
        "unknown-lookup": (
            "sent, no clear answer, and the lookup failed too ({detail}): check in Visma "
            "whether it is there (the next run looks it up first)"
        ),
        "unknown-twice": (
            "sent twice, no clear answer either time ({detail}): check in Visma whether it "
            "is there (the next run looks it up first)"
        ),
        "unknown-stopped": (
            "sent, no clear answer, and the run stopped before it could be looked up: the "
            "next run looks it up first"
        ),
        "rate-limited": (
            "not sent: rate limit: try again after {until} (Visma asked for a wait longer "
            "than --max-wait)"
        ),
        "bad-answer": "{detail}; nothing more was sent for this document",
        "released": "released: status {status}",
        "release-refused": (
            "created as {number}, but the release failed: {detail}; release it in Visma"
        ),
        "release-unknown": (
            "created as {number}; what became of its release is not known ({detail}): "
            "check in Visma that it is released, and release it there if not"
        ),
        "release-pending": (
            "created as {number}; its release was still queued in Visma after {seconds} s "
            "(--release-wait), status {status}: check in Visma that it is released, and "
            "release it there if it stays {status}"
        ),
        "created-late": "created as {number} (Visma answered late; found by a lookup)",
        "refused-500": "Visma refused it twice with the same error: {detail}",
        "unknown-kept": (
            "an earlier run sent it and got no answer, and it has nothing to be looked up "
            "by in Visma: check in Visma whether it is there; if it is not, import again "
            "with --resend-unknown"
        ),
        "already-created": (
            "already created as {number}; the file has changed since "
            "(--mode update sends the changes)"
        ),
        "would-skip": (
            "already created as {number}; the file has changed since: a run skips it "
            "(--mode update would send the changes)"
        ),
        "written": "written to {path}, not sent",
        "written-update": (
            "written to {path}, not sent: a run updates {number} (its lines as Visma has them "
            "decide which are inserted, updated or deleted)"
        ),
        "written-lookup": (
            "written to {path}, not sent: a run looks it up in Visma by its number or "
            "reference first, and updates it when it is there"
        ),
        "written-interrupted": (
            "written to {path}, not sent: an earlier run was stopped while sending it; a run "
            "looks it up in Visma first and sends it only if it is not there"
        ),
        "internal-error": (
            "vnimport failed while sending this document ({detail}); check in Visma "
            "whether it is there before importing it again"
        ),
        # taking a run back (importer.undo.run)
        "undo-done.deleted": "deleted",
        "undo-done.reversed": "reversed by {note_title} {note}, released",
        "undo-done.voided": "voided",
        "undo-done.inactivated": "set inactive (the API cannot delete a {title})",
        "undo-done.restored": "put back as Visma showed it before the run",
        "undo-done.restored-unseen": (
            "put back as Visma showed it before the run; {fields}: Visma does not show it, "
            "so it stays as the run sent it"
        ),
        "undo-would.delete": "would delete it",
        "undo-would.reverse": "would reverse it with a {note_title}, and release that",
        "undo-would.release": (
            "would release {note_title} {note}, which an earlier undo made to reverse it"
        ),
        "undo-would.void": "would void it",
        "undo-would.inactivate": "would set it inactive (the API cannot delete a {title})",
        "undo-would.restore": "would put back {fields} as Visma showed them before the run",
        "undo-nothing": "the run left it {status}",
        "undo-nothing.already": "it is {status} already",
        "undo-gone": "it is not in Visma any more",
        "undo-earlier": "{message} (by an earlier undo; nothing done now)",
        "undo-stopped": "not undone: undo was stopped before it",
        "undo-changed": (
            "changed in Visma since the run (its ETag is not the one the run got): left as "
            "it is. {by_hand}"
        ),
        "undo-changed.release": (
            "changed in Visma since the run, perhaps only by the release the run left queued "
            "(--release-wait): left as it is. {by_hand}"
        ),
        "undo-paid": (
            "paid since the run (balance {balance} of {amount}): left as it is. {by_hand}"
        ),
        "undo-by-hand": "status {status}: the API cannot take it back. {by_hand}",
        "undo-by-hand.type": (
            "vnimport knows no way to take back a {doctype} (its type has no x-undo, or is "
            "not found here: give --types-dir): take it back in Visma by hand"
        ),
        "undo-no-etag": (
            "Visma gave no ETag for it to the run, so whether it changed since cannot be "
            "told: left as it is. {by_hand}"
        ),
        "undo-unknown": (
            "the run sent it and got no answer: check in Visma whether it is there, and take "
            "it back by hand if it is. {by_hand}"
        ),
        "undo-in-doubt": (
            "an earlier undo asked Visma to reverse it, and what Visma answered is not known: "
            "look in Visma for a {note_title} that reverses it, and release it; if there is "
            "none, reverse it by hand"
        ),
        "undo-partial": (
            "put back, but {fields} still differ from the copy the journal kept from before "
            "the run: set them in Visma by hand"
        ),
        "undo-no-copy": (
            "the journal has no copy of it from before the run, so it cannot be put back. {by_hand}"
        ),
        "undo-not-found": (
            "it is not in Visma any more, so it cannot be put back (the journal keeps the "
            "copy from before the run: `vnimport runs show`). {by_hand}"
        ),
        "undo-pending": (
            "Visma had not finished the {step} after {seconds} s: run undo again to see it done"
        ),
        "undo-refused": "Visma refused to {step} it: {detail}",
        "undo-note-failed": (
            "reversed by {note_title} {note}, but its release failed ({detail}): release it "
            "in Visma, or run undo again"
        ),
    },
    "nb": dict(MESSAGES_NB),  # importer.messages_nb
}

#: Titles of codes and of statuses by language (:func:`title`,
#: :func:`status_title`); English is each :class:`Code`'s and :class:`Status`'s own.
TITLES: dict[str, dict[str, str]] = {"nb": dict(TITLES_NB)}
STATUS_TITLES: dict[str, dict[str, str]] = {"nb": dict(STATUS_TITLES_NB)}
_ANSWERED = {"en": "Visma answered {}", "nb": "Visma svarte {}"}


def message(key: str, lang: str = "en", **params: object) -> str:
    """The message ``key`` in ``lang`` (English when that language lacks it)."""
    return render(key, params, lang)


def render(key: str, params: Mapping[str, object], lang: str = "en") -> str:
    """The message ``key`` in ``lang`` with ``params`` (English when that
    language lacks it); :func:`message` for parameters named ``key`` or ``lang``."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES["en"][key]
    return text.format_map(params)


def render_issue(issue: RowIssue, lang: str = "en") -> str:
    """``issue``'s message in ``lang``, from its key and parameters (English
    when the language lacks the key); an issue without a key (a message from
    elsewhere, such as Visma's) as it was written."""
    if not issue.key:
        return issue.message
    return render(issue.key, dict(issue.params), lang)


def title(code: str, lang: str = "en") -> str:
    """The title of ``code`` in ``lang`` (English when that language lacks
    it); an unknown HTTP code says what Visma answered, any other unknown
    code is its own title."""
    found = CODES.get(code)
    if found is not None:
        return TITLES.get(lang, {}).get(code) or found.title
    if code.startswith("http-"):
        return _ANSWERED.get(lang, _ANSWERED["en"]).format(code[5:])
    return code


def status_title(status: str, lang: str = "en") -> str:
    """The title of row status ``status`` in ``lang`` (English when that
    language lacks it); an unknown status is its own title."""
    found = STATUSES.get(status)
    if found is None:
        return status
    return STATUS_TITLES.get(lang, {}).get(status) or found.title


def http_code(status: int | None) -> str:
    """The code of an HTTP answer that refused a document."""
    if status is None:
        return "outcome-unknown"
    if f"http-{status}" in CODES:
        return f"http-{status}"
    return "http-5xx" if status >= 500 else "http-4xx"


def exit_code(statuses: set[str]) -> int:
    """The exit code rows with these statuses lead to."""
    return max((STATUSES[s].exit_code if s in STATUSES else 1 for s in statuses), default=0)
