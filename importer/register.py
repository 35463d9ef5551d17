"""The cross-reference register: what one run did to each document.

A migration keeps, for every document it moved, the key the old system
gave it and the number Visma gave it. The journal records both for every
run (:meth:`~importer.targets.journal.Journal.run_documents`); this module
finds a run (``last`` or its id), lists its documents, and writes them as
a workbook or csv that a person can read and a mapping file can use::

    [values."Customer number"]            # invoices that name customers by
    file = "customers-register.xlsx"      # their old numbers, sent with
    from = "Key"                          # the numbers Visma gave them
    to = "Visma number"

For a customer or supplier whose number Visma assigns, the key is the
file's *Legacy ID* column (``documentId``: never sent), which is exactly
the old key a later file refers to.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from importer.codes import exit_code
from importer.errors import ConfigError, JournalError
from importer.targets.journal import Journal, Run, RunDocument

if TYPE_CHECKING:
    from importer.settings import Target

__all__ = [
    "REGISTER_COLUMNS",
    "RunRegister",
    "check_tested",
    "find_run",
    "queue_journal",
    "run_facts",
    "run_register",
    "tested_run",
    "write_register",
]

REGISTER_COLUMNS = (
    "Type", "Key", "Rows", "Visma number", "Status", "Code", "Message", "Undo", "Undo message",
)  # fmt: skip


@dataclass(frozen=True)
class RunRegister:
    """A run and what it did to each of its documents, in the order it came to them."""

    run: Run
    documents: list[RunDocument]

    def rows(self) -> list[tuple[str, ...]]:
        return [
            (d.doctype, d.key, d.rows, d.number, d.status, d.code, d.message, d.undo_state,
             d.undo_message)
            for d in self.documents
        ]  # fmt: skip


def find_run(journal: Journal, spec: str, *, target: str | None = None, against: str = "") -> Run:
    """The run ``spec`` names: ``last`` (the newest against ``target``, any
    when ``None``), its id, or the start of exactly one id. With
    ``against`` (what the command is about to do: "reconcile", "undo"), the
    run must have been made against ``target``. A :class:`ConfigError`
    (:class:`JournalError` for a journal with no runs) says why not, and
    which runs there are."""
    if spec == "last":
        run = journal.find_run("last", target=target)
        if run is None:
            where = f" against {target}" if target else ""
            raise JournalError(f"the journal {journal.path} has no runs{where} yet")
    else:
        matches = [r for r in journal.runs(limit=1_000_000) if r.id.startswith(spec)]
        exact = [r for r in matches if r.id == spec]
        if not matches:
            recent = ", ".join(r.id for r in journal.runs(target=target, limit=3))
            latest = f"; the latest: {recent}" if recent else ""
            raise ConfigError(
                f"no run {spec!r} in the journal {journal.path}{latest} "
                "(`vnimport runs` lists them; `last` is the newest)"
            )
        if len(matches) > 1 and not exact:
            raise ConfigError(
                f"{spec!r} is the start of {len(matches)} runs' ids; give more of it "
                f"({', '.join(r.id for r in matches[:3])} ...)"
            )
        run = (exact or matches)[0]
    if against and target is not None and run.target != target:
        raise ConfigError(
            f"run {run.id} was made against {run.target}, not {target}: {against} it "
            "with the connection it used (--target)"
        )
    return run


def queue_journal(target_journal: str, queue: str, default: str = "") -> str:
    """The journal a queue's workers keep a target's runs in (the runs of
    its queued jobs): the target's ``journal`` when it is a
    ``postgresql://`` address, else ``default`` (``VNIMPORT_JOURNAL``) when
    that is one, else the queue's database ``queue``."""
    from importer.settings import default_journal, is_url

    default = default or default_journal()
    if is_url(target_journal):
        return target_journal
    return default if is_url(default) else queue


def run_register(journal: Journal, spec: str, *, target: str | None = None) -> RunRegister:
    """The register of the run ``spec`` names."""
    run = find_run(journal, spec, target=target)
    return RunRegister(run, journal.run_documents(run.id))


def run_facts(run: Run, *, outcome: bool = True) -> list[tuple[str, str]]:
    """What a workbook about a run says of the run itself, one fact a row
    (``outcome``: how it ended, and its counts, too)."""
    facts = [
        ("Run", run.id),
        ("File", run.file),
        ("File SHA-256", run.sha256),
        ("Type", run.doctype),
        ("Mode", run.mode),
        ("Target", run.target),
        ("By", f"{run.user}@{run.host}"),
    ]
    if outcome:
        ended = run.outcome or ("running or killed" if run.ended is None else "")
        facts += [
            ("Outcome", ended),
            ("Counts", ", ".join(f"{n} {s}" for s, n in run.counts.items())),
        ]
    return facts


def write_register(register: RunRegister, path: str | Path) -> Path:
    """Write the register as ``.xlsx`` (the documents, and the run on a
    second sheet) or ``.csv`` (UTF-8 with a BOM, as Excel opens it); whole
    or not at all."""
    from importer.report import _atomically, _bold_row, _cell, refuse_foreign, safe_cell

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ConfigError(f"{p}: the register is written as .xlsx or .csv")
    if p.is_dir():
        raise ConfigError(f"{p} is a folder; --out names the register's file")
    refuse_foreign(p, "register", sheet="Register", header=REGISTER_COLUMNS)
    p.parent.mkdir(parents=True, exist_ok=True)

    def write_csv(partial: Path) -> None:
        with partial.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(REGISTER_COLUMNS)
            writer.writerows([safe_cell(v) for v in row] for row in register.rows())

    def write_xlsx(partial: Path) -> None:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Register")
        ws.freeze_panes = "A2"
        widths = (18, 18, 10, 16, 16, 18, 60, 14, 60)
        for letter, width in zip("ABCDEFGHI", widths, strict=True):
            ws.column_dimensions[letter].width = width
        ws.append(_bold_row(ws, list(REGISTER_COLUMNS)))
        for row in register.rows():
            ws.append([_cell(ws, v) for v in row])  # text stays text: 0101 is no number
        about = wb.create_sheet("Run")
        about.column_dimensions["A"].width = 14
        about.column_dimensions["B"].width = 70
        for name, value in run_facts(register.run):
            about.append([_cell(about, name), _cell(about, value)])
        wb.save(partial)

    _atomically(p, write_csv if suffix == ".csv" else write_xlsx)
    return p


# ------------------------------------------------------------ test, then production


def tested_run(
    sha256: str, doctype: str, tests: Sequence[Target], *, default_journal: str
) -> Run | None:
    """A finished run of the file with ``sha256``, as ``doctype``, against
    one of the test targets ``tests`` (each in its own journal, else
    ``default_journal``), every row of it fine; ``None`` when the file was
    never run on a test company, or rows of it failed there."""
    from importer.settings import is_url
    from importer.targets.journal import open_journal

    for target in tests:
        path = target.journal or default_journal
        if not is_url(path) and not Path(path).exists():
            continue
        journal = open_journal(path, read_only=True)
        try:
            for run in journal.runs(target=target.connection.target, limit=1_000_000):
                if (
                    run.sha256 == sha256
                    and run.doctype == doctype
                    and run.outcome == "done"
                    and exit_code(set(run.counts)) == 0  # every row fine
                ):
                    return run
        finally:
            journal.close()
    return None


def check_tested(
    target: Target,
    sha256: str,
    doctype: str,
    tests: Sequence[Target],
    *,
    default_journal: str,
    yes: bool = False,
    ask: Callable[[str], bool] | None = None,
) -> None:
    """Before a run against a production target: the file must have been
    run against a test target, or the user confirms (``yes``, the target's
    ``untested_files = "allow"``, or ``ask``, a question put to a person at a
    terminal). Without any of these, a :class:`ConfigError` refuses the run
    and says how to go on."""
    if target.kind != "production" or yes or target.untested_files == "allow":
        return
    if tested_run(sha256, doctype, tests, default_journal=default_journal) is not None:
        return
    names = ", ".join(t.name for t in tests)
    first = (
        f"run it against a test target first (vnimport run FILE --target {tests[0].name})"
        if tests
        else 'set up a test company as a target with kind = "test" and run it there first'
    )
    question = (
        f"This file was never run as {doctype} against a test company with every row fine"
        + (f" ({names})" if names else "")
        + f". Send it to the production company {target.name!r}?"
    )
    if ask is not None and ask(question):
        return
    raise ConfigError(
        f"{target.name!r} is a production company and this file was never run as {doctype} "
        f"against a test company with every row fine: {first}, or confirm with --yes, or set "
        f'untested_files = "allow" under [targets.{target.name}]'
    )
