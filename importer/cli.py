"""The ``vnimport`` command: a thin shell over the library.

``main(argv)`` parses, calls one library function, prints, and returns the
exit code: 0 every row fine, 1 some rows invalid or failed, 2 fatal (bad
file, bad configuration, broken document type). Nothing below this module
prints or exits.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from importer import __version__
from importer.batch import Batch, check, gc_paused, validation_report
from importer.doctypes import DocType, Registry
from importer.errors import ConfigError, VismaError, VnimportError
from importer.jobs import EXIT_FATAL, PREFLIGHT_FROM
from importer.queue.commands import add_parsers as queue_parsers
from importer.queue.commands import cmd_enqueue, cmd_jobs, cmd_worker
from importer.report import BatchReport, refuse_foreign, refuse_inputs, write_report
from importer.web.commands import add_parsers as web_parsers
from importer.web.commands import cmd_serve, cmd_users

EXIT_OK, EXIT_ROWS = 0, 1
MAX_LISTED = 50
MAX_REASONS = 8
ESTIMATE_FROM = 100  # calls: a run this large is told about how long it takes
# What a batch command leaves (its batch and report), held so that
# main_entry's os._exit drops it with the process instead of it being freed
# object by object when the command returns (0.1 s for 100,000 rows).
_finished: list[Any] = []


def _seconds(text: str) -> float:
    """An option's number of seconds: zero or more, and finite."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def _duration(seconds: float) -> str:
    """``seconds`` as a person says it: 40 s, 12 min, 3 h 20 min."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _common_options(top: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name. The
    subcommands' copies have no defaults, so that they do not undo what was
    given before the command name (``vnimport --debug preview ...``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--types-dir",
        action="append",
        default=[] if top else argparse.SUPPRESS,
        metavar="DIR",
        help="extra folder of document types (schemas/ and templates/), "
        "searched before the built-in ones; repeatable",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show tracebacks",
    )
    return common


def _lists_max_age_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lists-max-age",
        type=_seconds,
        metavar="SECONDS",
        help="with a preflight: use the company's lists read in the last SECONDS again "
        "instead of reading them from Visma (default: VNIMPORT_LISTS_MAX_AGE, else 3600; "
        "0 reads them afresh)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(top=False)
    parser = argparse.ArgumentParser(
        prog="vnimport",
        parents=[_common_options(top=True)],
        description="Import spreadsheet batches into Visma.net Financials.",
    )
    parser.add_argument("--version", action="version", version=f"vnimport {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("types", parents=[common], help="list the document types and their columns")
    p.add_argument("name", nargs="?", help="show the columns of this type")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    def file_command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.add_argument("file", type=Path, help="the .xlsx or .csv file")
        p.add_argument("--type", "-t", required=True, dest="doctype", help="document type")
        p.add_argument("--sheet", help="the sheet to read (default: the first)")
        p.add_argument(
            "--mapping",
            type=Path,
            metavar="FILE",
            help="a mapping file (TOML): your headers to fields, columns to skip, a value "
            "for every row, old codes to new ones (`vnimport mapping` writes one)",
        )
        p.add_argument(
            "--skip",
            action="append",
            default=[],
            metavar="HEADER",
            help="leave this column out (its header, or 'column H'); may be given again",
        )
        p.add_argument(
            "--encoding",
            metavar="NAME",
            help="the encoding of a csv or text file (cp1251, iso-8859-2 ...), when vnimport "
            "cannot tell it",
        )
        p.add_argument(
            "--locale",
            metavar="LOCALE",
            help="how numbers are written: nb_NO, sv_SE, da_DK (1 234,50), en_GB, en_US "
            "(1,234.50); by default each number column's values decide",
        )
        p.add_argument(
            "--report",
            type=Path,
            metavar="PATH",
            help="write the per-row report: PATH.xlsx, PATH.csv and PATH.json",
        )
        return p

    p = file_command("run", "send a file's documents to Visma.net, each exactly once")
    p.add_argument(
        "--mode",
        choices=("create", "update", "upsert"),
        default="create",
        help="create new documents (default), update existing ones, or both",
    )
    p.add_argument(
        "--workers", type=int, default=4, metavar="N", help="requests in parallel (default 4)"
    )
    p.add_argument("--release", action="store_true", help="release each created document")
    p.add_argument(
        "--target",
        metavar="NAME",
        help="the company to post to: a [targets.NAME] of vnimport.toml, with its own "
        "journal; sandbox: an embedded sandbox (default: the top-level connection)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing: write every request a run would send (to --out, else "
        "PATH.requests.jsonl beside --report, else standard output), reading the journal "
        "so that documents already sent as they are are left out",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="F.jsonl",
        help="with --dry-run: write the requests here",
    )
    p.add_argument(
        "--journal",
        metavar="PATH",
        help="what was sent where, a file or a postgresql:// address (default: "
        "$VNIMPORT_JOURNAL or "
        "~/.local/state/vnimport/journal.sqlite; in memory for --target sandbox)",
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help='send to a kind = "production" target a file never run against a '
        'kind = "test" one, without asking',
    )
    p.add_argument(
        "--preflight",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="before sending, check the file against the company in Visma (as validate "
        "--preflight) and send none of the documents it finds wrong (default: on above "
        f"{PREFLIGHT_FROM} documents, off for --dry-run)",
    )
    _lists_max_age_option(p)
    p.add_argument(
        "--check-existing",
        action="store_true",
        help="before creating a document the journal does not know, look it up in Visma "
        "by its reference (one more call each; for runs without the first run's journal)",
    )
    p.add_argument(
        "--unknown-grace",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="how long after a create got no clear answer it is looked up, at the end of "
        "the run, before it is sent a second and last time (default 300: a large "
        "document can take minutes to commit in Visma)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=120.0,
        metavar="SECONDS",
        help="the longest one request to Visma may take in all: connecting, the headers "
        "and the whole answer (default 120); a create that takes longer is looked up",
    )
    p.add_argument(
        "--max-wait",
        type=_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="the longest wait Visma's rate limit may ask for (a 429's Retry-After, or a "
        "spent quota); beyond it the rest of the documents are not sent, and the report "
        "says when to try again (default 3600). The pacing within the quota never counts",
    )
    p.add_argument(
        "--release-wait",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="with --release: how long a release may stay queued in Visma before the run "
        "goes on and reports it as pending (default 60)",
    )
    p.add_argument(
        "--scopes",
        metavar="SCOPES",
        help="the token scopes to ask for, e.g. 'read create' (default: only what the "
        "command needs; never delete)",
    )
    p.add_argument(
        "--resend-unknown",
        action="store_true",
        help="send again the documents an earlier run sent without an answer and that "
        "cannot be looked up in Visma (check in Visma first that they are not there)",
    )
    p.add_argument(
        "--company-wait",
        type=_seconds,
        metavar="SECONDS",
        help="with a journal in PostgreSQL: how long to wait while a queued job or another "
        "run imports into the same company (default: until it is done; 0: refuse at once, "
        "naming who holds it)",
    )

    p = sub.add_parser("journal", parents=[common], help="work with a journal")
    jsub = p.add_subparsers(dest="journal_command", metavar="ACTION", required=True)
    p = jsub.add_parser(
        "copy",
        parents=[common],
        help="copy a journal into a new one (a SQLite file into PostgreSQL, for runners "
        "on several machines)",
    )
    p.add_argument("source", metavar="SRC", help="the journal to copy: a file or an address")
    p.add_argument(
        "destination", metavar="DST", help="the new journal: a postgresql:// address or a file"
    )

    p = sub.add_parser(
        "undo",
        parents=[common],
        help="take a run's documents back out of Visma, newest first (--dry-run: say how)",
    )
    p.add_argument("run", metavar="RUN", help="the run: its id (or the start of it), or last")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="change nothing: read each document and say what undo would do to it",
    )
    p.add_argument(
        "--journal",
        metavar="PATH",
        help="the journal of the run, a file or a postgresql:// address (default: "
        "$VNIMPORT_JOURNAL or ~/.local/state/vnimport/journal.sqlite)",
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help='undo in a kind = "production" target without asking',
    )
    p.add_argument("--target", metavar="NAME", help="the company the run sent to: a [targets.NAME]")
    p.add_argument(
        "--report",
        type=Path,
        metavar="PATH",
        help="write what was done to each document: PATH.xlsx, PATH.csv and PATH.json",
    )
    p.add_argument(
        "--scopes",
        metavar="SCOPES",
        help="the token scopes to ask for (default: read, and delete, create or update only "
        "when a step needs it)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=120.0,
        metavar="SECONDS",
        help="the longest one request to Visma may take in all (default 120)",
    )
    p.add_argument(
        "--wait",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="how long a step Visma does in the background (a void, the release of a "
        "reversing credit note) may take before undo goes on; run undo again to see it "
        "done (default 60)",
    )

    p = sub.add_parser("runs", parents=[common], help="list the runs the journal remembers")
    p.add_argument(
        "--journal",
        metavar="PATH",
        help="the journal, a file or a postgresql:// address (default: $VNIMPORT_JOURNAL "
        "or ~/.local/state/vnimport/journal.sqlite)",
    )
    p.add_argument(
        "--target", metavar="NAME", help="the runs of this [targets.NAME]: its journal, its company"
    )
    p.add_argument("--limit", type=int, default=20, metavar="N", help="the last N runs (20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "show",
        nargs="*",
        metavar="show RUN",
        help="`runs show RUN` lists what the run did to each document: the file's key and "
        "rows, Visma's number, the state (RUN: its id, or `last`, the newest against the "
        "target)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="with `show`: write the register (old key to Visma number) to FILE.xlsx or FILE.csv",
    )

    p = sub.add_parser(
        "reconcile",
        parents=[common],
        help="read back what a run created or updated and compare it with the file: "
        "a workbook of the differences (exit 1 when anything differs)",
    )
    p.add_argument(
        "run",
        metavar="RUN",
        help="the run: its id (or the start of it), or last (the newest against the target)",
    )
    p.add_argument(
        "--journal",
        metavar="PATH",
        help="the journal that remembers the run, a file or a postgresql:// address "
        "(default: the target's, else $VNIMPORT_JOURNAL or "
        "~/.local/state/vnimport/journal.sqlite)",
    )
    p.add_argument(
        "--target",
        metavar="NAME",
        help="the company the run went to: a [targets.NAME] of vnimport.toml (default: "
        "the top-level connection)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE.xlsx",
        help="write the reconciliation workbook here (default: reconcile-RUN.xlsx)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=120.0,
        metavar="SECONDS",
        help="the longest one request to Visma may take in all (default 120)",
    )

    p = sub.add_parser(
        "sandbox", parents=[common], help="run a Visma.net-compatible API server on loopback"
    )
    from importer.sandbox.options import add_arguments

    add_arguments(p)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="import the bundled samples of every type into an embedded sandbox",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("vnimport-demo"),
        metavar="DIR",
        help="write a report per type here (default: vnimport-demo)",
    )
    p.add_argument(
        "--workers", type=int, default=4, metavar="N", help="requests in parallel (default 4)"
    )

    p = file_command("validate", "check a file and report every problem, row by row")
    p.add_argument(
        "--preflight",
        action="store_true",
        help="check the file against the company in Visma too: every customer, supplier, "
        "item, VAT code, account, subaccount segment, currency, credit terms, branch, "
        "project and VAT zone it names, each document's financial period, the names beside "
        "numbers, and the documents already there (reads the company's lists: the calls "
        "depend on their size, not on the file's)",
    )
    p.add_argument(
        "--target",
        metavar="NAME",
        help="with --preflight: the company to check against, a [targets.NAME] of "
        "vnimport.toml; sandbox: an embedded sandbox's demo company (default: the "
        "top-level connection)",
    )
    _lists_max_age_option(p)
    p = sub.add_parser(
        "mapping",
        parents=[common],
        help="write a starter mapping file for a file whose headers vnimport does not know",
    )
    p.add_argument("file", type=Path, help="the .xlsx or .csv file")
    p.add_argument("--type", "-t", required=True, dest="doctype", help="document type")
    p.add_argument("--sheet", help="the sheet to read (default: the first)")
    p.add_argument("--encoding", metavar="NAME", help="the encoding of a csv or text file")
    p.add_argument(
        "--out",
        type=Path,
        metavar="F.toml",
        help="write the mapping file here (default: standard output)",
    )
    p = file_command("preview", "show the requests a file would send, as JSON lines")
    p.add_argument(
        "--out",
        type=Path,
        metavar="F.jsonl",
        help="write the requests here (default: standard output)",
    )
    p = sub.add_parser(
        "template",
        parents=[common],
        help="write a workbook ready to fill for a document type: its columns, notes, "
        "dropdowns and instructions",
    )
    p.add_argument("doctype", metavar="TYPE", help="the document type (`vnimport types`)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.xlsx",
        help="write the workbook here (an existing file is not overwritten)",
    )
    p.add_argument(
        "--lang",
        choices=("en", "nb", "sv"),
        default="en",
        help="the language of the headers, notes and instructions: English, Norwegian or "
        "Swedish (any of them is read back)",
    )
    p.add_argument(
        "--preflight",
        action="store_true",
        help="fill the dropdowns of the columns that name the company's records (VAT codes, "
        "currencies, branches, accounts, items, customers ...) from its lists in Visma",
    )
    p.add_argument(
        "--target",
        metavar="NAME",
        help="with --preflight: the company whose lists to read, a [targets.NAME] of "
        "vnimport.toml; sandbox: an embedded sandbox's demo company (default: the "
        "top-level connection)",
    )
    _lists_max_age_option(p)
    _watch_parser(sub, common)
    web_parsers(sub, common)
    queue_parsers(sub, common)
    return parser


def _watch_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "watch",
        parents=[common],
        help="import the files dropped in a folder, unattended: a folder per document "
        "type under ROOT, each with inbox/, processing/, done/ and failed/ ([watch] in "
        "vnimport.toml; docs/watch.md)",
    )
    p.add_argument(
        "root",
        nargs="?",
        type=Path,
        metavar="ROOT",
        help="the folder watched (default: root in [watch] of vnimport.toml)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="make one pass and exit (for cron or a systemd timer): 0 every file fine, "
        "1 some rows or files failed, 2 the pass could not run",
    )
    p.add_argument(
        "--interval",
        type=_seconds,
        metavar="SECONDS",
        help="seconds between passes, without --once (default: interval in [watch], else 60)",
    )
    p.add_argument(
        "--settle",
        type=_seconds,
        metavar="SECONDS",
        help="seconds between the two looks at a file, which must find it unchanged before "
        "it is taken (default: settle in [watch], else 5)",
    )
    p.add_argument(
        "--target",
        metavar="NAME",
        help="the company the files go to: a [targets.NAME] of vnimport.toml, with its "
        "journal (default: target in [watch], else the top-level connection)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.report_written = False
    args.sending = False  # once documents may have gone out, no report says "nothing sent"
    args.exit_code = EXIT_OK
    _finished.clear()
    try:
        _guard_outputs(args)
        registry = Registry(args.types_dir)
        handler = {
            "types": cmd_types,
            "validate": cmd_validate,
            "mapping": cmd_mapping,
            "preview": cmd_preview,
            "sandbox": cmd_sandbox,
            "run": cmd_run,
            "demo": cmd_demo,
            "runs": cmd_runs,
            "journal": cmd_journal,
            "undo": cmd_undo,
            "reconcile": cmd_reconcile,
            "template": cmd_template,
            "watch": cmd_watch,
            "serve": cmd_serve,
            "users": cmd_users,
            "worker": cmd_worker,
            "enqueue": cmd_enqueue,
            "jobs": cmd_jobs,
        }
        return handler[args.command](args, registry)
    except VnimportError as exc:
        if args.debug:
            traceback.print_exc()
        _failure_report(args, exc.code, str(exc))
        print(f"vnimport: error: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except BrokenPipeError:  # `vnimport preview ... | head`: the reader has had enough
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return int(args.exit_code)
    except OSError as exc:  # a file or folder that cannot be read or written
        if args.debug:
            traceback.print_exc()
        name = str(exc.filename or "").removesuffix(".partial")
        where = f"{name}: " if name else ""
        message = f"{where}{exc.strerror or exc}"
        _failure_report(args, "file-error", message)
        print(f"vnimport: error: {message}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        _failure_report(args, "stopped", "interrupted before any document was sent")
        _say("vnimport: interrupted")
        return EXIT_FATAL
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        message = f"internal error: {type(exc).__name__}: {exc}"
        _failure_report(args, "internal-error", message)
        print(f"vnimport: {message} (run again with --debug for details)", file=sys.stderr)
        return EXIT_FATAL


def main_entry() -> None:
    code = main()
    # Everything is written and closed by now: leave without tearing down a
    # finished batch's objects one by one (measurable on large files), and
    # without waiting for worker threads a second Ctrl-C left behind.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)


def _failure_report(args: argparse.Namespace, code: str, message: str) -> None:
    """Whatever ends a run, a report: when none was written yet, one that
    says why nothing (or not everything) was done."""
    path = getattr(args, "report", None)
    if path is None or args.report_written or args.sending or getattr(args, "file", None) is None:
        return
    report = BatchReport(
        source=str(args.file),
        doctype=str(args.doctype),
        results=[],
        fatal=(code, message),
        input_paths=[str(args.file)],
    )
    try:
        paths = write_report(report, path)
    except Exception as exc:
        _say(f"vnimport: the report could not be written: {exc}")
        return
    args.report_written = True
    _say("report: " + ", ".join(str(p) for p in paths.values()))


def _say(text: str) -> None:
    """A line on stderr, when there is still someone to read it."""
    with suppress(OSError, ValueError):
        print(text, file=sys.stderr)


def _guard_outputs(args: argparse.Namespace) -> None:
    """Before anything is read or sent: every file the command will write
    must be writable, and none may be one the run reads (the input, the
    journal). Found out after sending, it would cost the report."""
    from importer.report import check_report_path, report_paths

    outputs: list[Path] = []
    if getattr(args, "report", None) is not None:
        check_report_path(args.report)
        outputs += report_paths(args.report).values()
    out = getattr(args, "out", None)
    if args.command == "run":
        if out is not None and not args.dry_run:
            raise ConfigError("--out writes the requests of a --dry-run; add --dry-run")
        if args.dry_run and out is None and args.report is not None:
            out = args.requests_out = _requests_path(args.report)
        args.requests_out = out
    if out is not None and args.command in ("preview", "run"):
        if out.is_dir():
            raise ConfigError(f"{out} is a folder; --out names the file to write")
        outputs.append(out)
    inputs = [args.file] if getattr(args, "file", None) is not None else []
    if args.command in ("run", "undo") and args.target != "sandbox":
        from importer.settings import is_url

        journal = _journal_of(args)
        if not is_url(journal):
            inputs.append(journal)
    refuse_inputs(outputs, inputs)


def _target(args: argparse.Namespace) -> Any:
    """The ``--target NAME`` of vnimport.toml (``None``: the top-level one, or the sandbox)."""
    from importer.settings import load_target

    name = getattr(args, "target", None)
    if name in (None, "sandbox"):
        return None
    return load_target(name)


def _journal_of(args: argparse.Namespace) -> str:
    """``--journal``, else the target's journal, else the user's default one."""
    from importer.settings import default_journal

    target = _target(args)
    return str(args.journal or (target.journal if target else "") or default_journal())


def _requests_path(report: Path) -> Path:
    """``out/result`` (or ``out/result.xlsx``) → ``out/result.requests.jsonl``."""
    from importer.report import report_paths

    stem = report_paths(report)["json"].with_suffix("")
    return stem.with_name(stem.name + ".requests.jsonl")


# ------------------------------------------------------------ commands


def cmd_types(args: argparse.Namespace, registry: Registry) -> int:
    names = [args.name] if args.name else registry.names()
    types = [registry.get(n) for n in names]
    if args.json:
        print(json.dumps([_type_info(t) for t in types], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not args.name:
        width = max(len(t.name) for t in types)
        for t in types:
            method, path = t.endpoint("create")
            print(
                f"{t.name:<{width}}  {t.title:<24} {len(t.fields) + len(t.patterns):>3} columns  "
                f"{method} {path}"
            )
        print("\nvnimport types NAME shows the columns of one type.")
        return EXIT_OK
    t = types[0]
    print(f"{t.name}: {t.title}")
    print(f"  key: {' or '.join(t.key_fields) or 'one row per document'}")
    if t.lines:
        print(f"  one row per line of {t.lines}")
    for info in _type_info(t)["columns"]:
        flag = "required" if info["required"] else ""
        print(f"  {info['column']:<40} {info['kind']:<8} {flag:<8} {', '.join(info['aliases'])}")
        if info.get("description"):
            print(f"  {'':<40} {info['description']}")
    return EXIT_OK


def _type_info(t: DocType) -> dict[str, Any]:
    columns = [
        {
            "column": f.name,
            "title": f.title,
            "kind": f.kind,
            "required": f.required,
            "line": f.is_line,
            "aliases": list(f.aliases),
            "description": f.description,
        }
        for f in t.fields.values()
    ] + [
        {
            "column": p.column,
            "title": p.title,
            "kind": p.kind,
            "required": False,
            "line": p.is_line,
            "aliases": list(p.aliases),
        }
        for p in t.patterns
    ]
    return {
        "name": t.name,
        "title": t.title,
        "dto": t.schema.get("x-dto"),
        "endpoints": t.endpoints,
        "key": t.key_fields,
        "lines": t.lines,
        "columns": columns,
    }


def _check(args: argparse.Namespace, registry: Registry) -> Batch:
    """The file, checked; the CLI owns its process, so it runs without the
    cyclic collector and holds a native reader's crash report back."""
    return check(
        args.file,
        registry.get(args.doctype),
        sheet=args.sheet,
        locale=args.locale,
        mapping=args.mapping,
        skip=args.skip,
        encoding=args.encoding,
        pause_gc=True,
        hold_stderr=True,
    )


def cmd_mapping(args: argparse.Namespace, registry: Registry) -> int:
    """``vnimport mapping FILE --type T``: a starter mapping file."""
    from importer.mapping.rules import mapping_starter

    text = mapping_starter(
        args.file, registry.get(args.doctype), sheet=args.sheet, encoding=args.encoding
    )
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.out.exists():
        raise ConfigError(f"{args.out} exists; vnimport does not overwrite a mapping file")
    args.out.write_text(text, encoding="utf-8")
    _say(f"wrote {args.out}: check the guesses, fill in what is unknown, then use --mapping")
    return EXIT_OK


def cmd_template(args: argparse.Namespace, registry: Registry) -> int:
    """``vnimport template T --out FILE.xlsx``: a workbook ready to fill."""
    from importer.template.workbook import write_template

    doctype = registry.get(args.doctype)
    if args.out.is_dir():
        raise ConfigError(f"{args.out} is a folder; --out names the workbook to write")
    if args.out.exists():
        raise ConfigError(f"{args.out} exists; vnimport does not overwrite a template")
    choices = _template_choices(args, doctype) if args.preflight else None
    path = write_template(doctype, args.out, lang=args.lang, choices=choices)
    _say(f"wrote {path}: fill it in, then: vnimport validate {path} --type {doctype.name}")
    return EXIT_OK


def _template_choices(args: argparse.Namespace, doctype: DocType) -> dict[str, list[str]]:
    """``template --preflight``: the company's values for the template's
    dropdowns, read from the lists of the company :func:`_company` names."""
    from contextlib import ExitStack

    from importer.settings import lists_max_age
    from importer.targets.client import VismaClient, scopes
    from importer.targets.lists import ListReader
    from importer.template.workbook import company_choices

    with ExitStack() as stack:
        connection, cache = _company(
            args, stack, "--preflight reads the company's lists from Visma"
        )
        client = VismaClient(connection, scope=connection.scope or scopes("read"))
        stack.callback(client.session.close)
        reader = ListReader(client, cache=cache, max_age=lists_max_age(args.lists_max_age))
        choices = company_choices(doctype, reader)
        _say(
            f"preflight: {reader.calls} call(s) to {connection.base_url}; the company's values "
            f"fill {len(choices)} dropdown(s)"
        )
        return choices


def _company(args: argparse.Namespace, stack: Any, why: str = "") -> tuple[Any, Path | None]:
    """The company a preflight reads: ``--target`` (an embedded sandbox's
    demo company for ``sandbox``, which lives as long as ``stack``), else
    the configured connection; and where its lists are kept (``None``: a
    sandbox is a fresh company every time)."""
    from dataclasses import replace

    from importer.settings import (
        Connection,
        configured_scopes,
        default_journal,
        how_to_configure,
        load_connection,
    )
    from importer.targets.lists import cache_beside

    cache: Path | None = None
    connection: Connection | None
    if args.target == "sandbox":
        from importer.sandbox import Sandbox
        from importer.sandbox.process import demo_connection

        connection = demo_connection(stack.enter_context(Sandbox()).url)
    else:
        target = _target(args)
        connection = target.connection if target else load_connection()
        cache = cache_beside((target.journal if target else "") or default_journal())
    if connection is None:
        raise ConfigError(f"{why}; {how_to_configure()}" if why else how_to_configure())
    scope = configured_scopes()
    if scope:
        connection = replace(connection, scope=scope)
    return connection, cache


def cmd_validate(args: argparse.Namespace, registry: Registry) -> int:
    with gc_paused():  # the report's 100,000 results too, not only the check
        batch = _check(args, registry)
        checked = _validate_preflight(args, batch) if args.preflight else None
        report = validation_report(batch)
    _note_preflight(report, checked)
    _finished.extend((batch, report))
    _finish(args, report)
    return report.exit_code


def cmd_preview(args: argparse.Namespace, registry: Registry) -> int:
    from importer.render import render_requests

    with gc_paused():  # rendering and the report too, not only the check
        batch = _check(args, registry)
        with _output(args.out) as out:
            written = 0
            for request in render_requests(batch):
                out.write(request.json_line())
                out.write("\n")
                written += 1
        report = validation_report(batch)
    _finished.extend((batch, report))
    _finish(args, report)
    where = f" to {args.out}" if args.out else ""
    print(f"{written} request(s) written{where}", file=sys.stderr)
    return report.exit_code


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """Standard output, or ``path`` written beside itself and renamed into
    place: a run that fails leaves an earlier file as it was."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            yield out
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def cmd_run(args: argparse.Namespace, registry: Registry) -> int:
    from contextlib import ExitStack

    from importer.targets import Destination, JsonLinesDestination, RunAborted, send

    stop = threading.Event()
    requests_out: Path | None = args.requests_out
    with ExitStack() as stack:
        connection, journal = _connection_and_journal(args, stack)
        _hold_company(args, stack, connection)
        batch = _check(args, registry)
        if not args.dry_run:
            _tested_first(args, batch)
        checked = _run_preflight(args, batch, connection, journal)
        destination: Destination
        if args.dry_run:
            sink = stack.enter_context(_output(requests_out))
            target = connection.target if connection is not None else ""
            name = str(requests_out) if requests_out else "standard output"
            destination = JsonLinesDestination(sink, journal=journal, target=target, name=name)
        else:
            from importer.targets.visma import VismaDestination

            assert connection is not None and journal is not None
            destination = VismaDestination(
                connection,
                journal=journal,
                release=args.release,
                check_existing=args.check_existing,
                workers=args.workers,
                resend_unknown=args.resend_unknown,
                unknown_grace=args.unknown_grace,
                timeout=args.timeout,
                max_wait=args.max_wait,
                release_wait=args.release_wait,
                existing=checked.existing if checked is not None else None,
            )
        progress = Progress(sys.stderr)
        args.sending = True
        try:
            with _stop_on_signals(stop):
                report = send(
                    batch,
                    destination,
                    mode=args.mode,
                    workers=1 if args.dry_run else args.workers,
                    progress=progress.event,
                    stop=stop,
                )
        except RunAborted as aborted:
            progress.close()
            _note_preflight(aborted.report, checked)
            with _signals_wait():
                _finish(args, aborted.report)
            raise
        progress.close()
        _note_preflight(report, checked)
        with _signals_wait():
            _finish(args, report)
            if args.dry_run:
                where = f" to {requests_out}" if requests_out else ""
                written = report.extra.get("requests_written", 0)
                _say(f"dry run: nothing was sent; {written} request(s) written{where}")
                if args.release or args.check_existing:
                    _say("dry run: --release and --check-existing act only in a real run")
            else:
                calls = report.extra.get("calls", 0)
                reads = report.extra.get("update_reads", 0)
                extra = f" ({reads} of them reads before updates)" if reads else ""
                _say(f"{calls} call(s) to {destination.describe()}{extra}")
    return report.exit_code


def _hold_company(args: argparse.Namespace, stack: Any, connection: Any) -> None:
    """A real run on a journal in PostgreSQL holds the company's lock, the
    one queued jobs take: while a job or another run imports into the same
    company it waits (``--company-wait``), saying who holds it, or refuses."""
    from importer.jobs import lock_holder
    from importer.settings import is_url
    from importer.targets.postgres import company_lock

    if args.dry_run or args.target == "sandbox" or connection is None:
        return
    path = _journal_of(args)
    if is_url(path):
        lock = company_lock(
            path,
            connection.target,
            lock_holder(),
            wait=args.company_wait,
            waiting=lambda who: _say(
                f"waiting: {who} is importing into the company {connection.target} "
                "(one run per company at a time; Ctrl-C to stop)"
            ),
        )
        stack.enter_context(lock)


def _tested_first(args: argparse.Namespace, batch: Batch) -> None:
    """A production target takes a file only once a test target has: else
    a person at a terminal is asked, and anyone else refused."""
    from importer.register import check_tested
    from importer.settings import default_journal, load_targets
    from importer.targets.visma import file_sha256

    target = _target(args)
    if target is None or target.kind != "production":
        return

    check_tested(
        target,
        file_sha256(batch.table.path),
        batch.doctype.name,
        [t for t in load_targets() if t.kind == "test"],
        default_journal=default_journal(),
        yes=args.yes,
        ask=_ask,
    )


def _ask(question: str) -> bool:
    """A yes-or-no question to a person at a terminal; no (never asked)
    when nobody is there: a script, a pipe, a scheduler."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    _say(question + " [y/N] ")
    return sys.stdin.readline().strip().lower() in ("y", "yes", "j", "ja")


def _validate_preflight(args: argparse.Namespace, batch: Batch) -> Any:
    """``validate --preflight``: the batch checked against the company
    :func:`_company` names."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        connection, cache = _company(args, stack)
        return _preflight(args, batch, connection, cache, journal=None, existing=True)


def _run_preflight(args: argparse.Namespace, batch: Batch, connection: Any, journal: Any) -> Any:
    """``run``'s preflight: asked for, or a real run of more than
    :data:`PREFLIGHT_FROM` documents; ``None`` when there is none."""
    from importer.settings import how_to_configure
    from importer.targets.lists import cache_beside

    wanted = args.preflight
    if wanted is None:
        wanted = not args.dry_run and len(batch.documents) > PREFLIGHT_FROM
    if not wanted:
        return None
    if connection is None:
        raise ConfigError(f"--preflight reads the company's lists from Visma; {how_to_configure()}")
    cache = None if args.target == "sandbox" else cache_beside(_journal_of(args))
    return _preflight(
        args, batch, connection, cache, journal=journal, existing=args.mode == "create"
    )


def _preflight(
    args: argparse.Namespace,
    batch: Batch,
    connection: Any,
    cache: Path | None,
    *,
    journal: Any,
    existing: bool,
) -> Any:
    from importer.company_checks import preflight
    from importer.settings import lists_max_age

    try:
        result = preflight(
            batch,
            connection,
            cache=cache,
            max_age=lists_max_age(args.lists_max_age),
            existing=existing,
            journal=journal,
            warn_existing=args.command == "validate",  # a run's rows say "exists in Visma"
        )
    except VismaError as exc:
        hint = "; --no-preflight runs without it" if args.command == "run" else ""
        raise VismaError(f"preflight: {exc}{hint}") from None
    cached = f", {len(result.cached)} from the cache" if result.cached else ""
    _say(
        f"preflight: {result.calls} call(s) to {connection.base_url} ({result.list_calls} "
        f"reading {len(result.lists)} list(s){cached}, {result.lookup_calls} looking for "
        f"documents already there): {result.errors} problem(s) found, "
        f"{len(result.existing)} document(s) in Visma already"
    )
    return result


def _note_preflight(report: BatchReport, checked: Any) -> None:
    """The preflight's figures in the report (``preflight`` in its JSON)."""
    if checked is not None:
        report.extra["preflight"] = checked.summary()


def _connection_and_journal(args: argparse.Namespace, stack: Any) -> tuple[Any, Any]:
    """The Visma.net connection (``None`` for a dry run with none set up)
    and the journal: read-only for a dry run, which opens it only if it
    exists and claims nothing."""
    from dataclasses import replace

    from importer.settings import (
        Connection,
        configured_scopes,
        how_to_configure,
        is_url,
        load_connection,
    )
    from importer.targets.journal import open_journal

    if args.target == "sandbox":
        from importer.sandbox import Sandbox
        from importer.sandbox.process import demo_connection

        sb = stack.enter_context(Sandbox())
        connection: Connection | None = demo_connection(sb.url)
        path = args.journal or ":memory:"
    else:
        target = _target(args)
        connection = target.connection if target else load_connection()
        if connection is None and not args.dry_run:
            raise ConfigError(how_to_configure())
        path = _journal_of(args)
    scope = configured_scopes(getattr(args, "scopes", None))
    if connection is not None and scope:
        connection = replace(connection, scope=scope)
    if args.dry_run:
        if str(path) == ":memory:" or not (is_url(path) or Path(path).exists()):
            return connection, None
        if connection is None:
            _say(
                f"dry run: no Visma.net connection is configured, so the journal {path} "
                "cannot tell which documents are already in Visma: every one is listed"
            )
            return None, None
        journal = open_journal(path, read_only=True)
    else:
        journal = open_journal(path)
    stack.callback(journal.close)
    return connection, journal


_STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@contextmanager
def _on_signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """``handler`` for Ctrl-C, SIGTERM and SIGHUP (a closed terminal) while
    inside; signals belong to the main thread, so elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [getattr(signal, name) for name in _STOP_SIGNALS if hasattr(signal, name)]
    saved = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


def _stop_on_signals(stop: threading.Event) -> Any:
    """Ctrl-C, SIGTERM or SIGHUP: no new document starts, the requests in
    flight finish, every row gets its status and the report is written. A
    second signal stops at once (the documents in flight end ``unknown``)."""

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        _write_stderr(
            f"\nvnimport: {signal.Signals(signum).name}: stopping; no new document starts, "
            "the ones in flight finish (again to stop at once)\n"
        )

    return _on_signals(handler)


def _signals_wait() -> Any:
    """While the report is written, a signal waits: the report is what says
    what was sent, and a half-written one would say less."""

    def handler(signum: int, frame: Any) -> None:
        _write_stderr("\nvnimport: writing the report; it will be done in a moment\n")

    return _on_signals(handler)


def _write_stderr(text: str) -> None:
    """From a signal handler: one system call, no buffered stream."""
    with suppress(OSError):
        os.write(2, text.encode("utf-8", "replace"))


def cmd_journal(args: argparse.Namespace, registry: Registry) -> int:
    """``vnimport journal copy SRC DST``."""
    from importer.settings import is_url
    from importer.targets.journal import copy_journal, open_journal

    if not is_url(args.source) and not Path(args.source).exists():
        raise ConfigError(f"there is no journal at {args.source}")
    source = open_journal(args.source)  # a journal of an older vnimport is upgraded first
    try:
        destination = open_journal(args.destination)
        try:
            entries, runs = copy_journal(source, destination)
        finally:
            destination.close()
    finally:
        source.close()
    print(f"copied {entries} entries and {runs} runs from {source.path} to {destination.path}")
    return EXIT_OK


def _run_company(args: argparse.Namespace, doing: str) -> Any:
    """The company a run was sent to, for a command that works on what it
    sent there (``doing``: reconcile, undo): ``--target``, else the
    configured connection; never a new sandbox, which has none of it."""
    from importer.settings import how_to_configure, load_connection

    if args.target == "sandbox":
        raise ConfigError(
            f"{doing} works on what a run sent to a company, and --target sandbox starts a "
            "new, empty sandbox: name the run's [targets.NAME], or the connection of the "
            "sandbox the run went to (vnimport sandbox --db FILE, its address in "
            "VNIMPORT_BASE_URL)"
        )
    target = _target(args)
    connection = target.connection if target else load_connection()
    if connection is None:
        raise ConfigError(how_to_configure())
    return connection


def _kept_journal(args: argparse.Namespace, *, read_only: bool = True) -> Any:
    """The journal of ``--journal`` / ``--target`` / the default, which
    must exist already: a command about past runs makes none."""
    from importer.settings import is_url
    from importer.targets.journal import open_journal

    path = _journal_of(args)
    if not is_url(path) and not Path(path).exists():
        raise ConfigError(f"there is no journal at {path} (no run has used it yet)")
    return open_journal(path, read_only=read_only)


def cmd_undo(args: argparse.Namespace, registry: Registry) -> int:
    """``vnimport undo RUN [--dry-run]``: the run's documents taken back, newest first."""
    from dataclasses import replace

    from importer.settings import configured_scopes
    from importer.undo.report import write_undo_report
    from importer.undo.run import undo_run

    connection = _run_company(args, "undo")
    target = _target(args)
    if target is not None and target.kind == "production" and not args.dry_run and not args.yes:
        question = (
            f"Undo deletes, reverses or voids documents in the production company "
            f"{target.name!r}. Go on?"
        )
        if not _ask(question):
            raise ConfigError(
                f"{target.name!r} is a production company: undo there goes on only when "
                "confirmed at a terminal, or with --yes (vnimport undo RUN --dry-run says "
                "what it would do)"
            )
    scope = configured_scopes(args.scopes)
    if scope:
        connection = replace(connection, scope=scope)
    journal = _kept_journal(args, read_only=args.dry_run)
    stop = threading.Event()

    def shown(result: Any) -> None:
        said = result.message or result.status
        if not said.startswith(result.status):  # "would delete": "would delete it" says it once
            said = f"{result.status}: {said}"
        _say(f"  {result.key}  {result.number or '-'}  {said}")

    try:
        args.sending = not args.dry_run
        with _stop_on_signals(stop):
            report = undo_run(
                journal, args.run, connection, dry_run=args.dry_run, registry=registry,
                timeout=args.timeout, wait=args.wait, progress=shown, stop=stop,
            )  # fmt: skip
    finally:
        journal.close()
    run = report.run
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items()) or "no document"
    with _signals_wait():
        if args.report is not None:
            paths = write_undo_report(report, args.report)
            args.report_written = True
            _say("report: " + ", ".join(str(p) for p in paths.values()))
    if report.fatal:
        _say(f"vnimport: error: {report.fatal[1]}")
    if args.dry_run:
        print(f"dry run of the undo of run {run.id} ({run.doctype}, {run.file}): {counts}")
        print("nothing was done; vnimport undo without --dry-run does it")
    else:
        print(f"undo of run {run.id} ({run.doctype}, {run.file}): {counts}")
        print(f"{report.calls} call(s) to {connection.base_url}")
    return report.exit_code


def cmd_runs(args: argparse.Namespace, registry: Registry) -> int:
    """The runs of a journal, newest first; with a queue configured, the
    queue's jobs too (their runs are in the workers' journal)."""
    from dataclasses import asdict

    from importer.settings import is_url

    path = _journal_of(args)
    target = _target(args)
    if args.show:
        if args.show[0] != "show" or len(args.show) != 2:
            raise ConfigError(
                f"vnimport runs takes `show RUN`, not {' '.join(args.show)!r} "
                "(RUN: a run's id, or last)"
            )
        return _show_run(args, args.show[1])
    if args.out is not None:
        raise ConfigError("--out goes with `vnimport runs show RUN`")
    queue = _runs_queue(args)
    runs = []
    if not queue or args.journal or is_url(path) or Path(path).exists():
        journal = _kept_journal(args)
        try:
            runs = journal.runs(
                target=target.connection.target if target else None, limit=args.limit
            )
        finally:
            journal.close()
    jobs = _runs_jobs(args, queue) if queue else []
    if args.json:
        listed = [asdict(r) for r in runs]
        jobs_out = [j.as_dict() for j in jobs]
        out: Any = {"runs": listed, "jobs": jobs_out} if queue else listed
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return EXIT_OK
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started))
        counts = ", ".join(f"{n} {s}" for s, n in r.counts.items()) or "-"
        state = r.outcome or ("running or killed" if r.ended is None else "")
        print(f"{r.id}  {when}  {r.user}@{r.host}  {r.doctype} {r.mode}  {r.file}")
        print(f"    {r.target}  {state}: {counts}")
    if not runs:
        print(f"the journal {path} has no runs yet")
    if queue:
        _print_runs_jobs(jobs, queue)
    return EXIT_OK


def _runs_queue(args: argparse.Namespace) -> str:
    """The queue ``vnimport runs`` shows the jobs of: its address, empty
    when none is configured (``VNIMPORT_QUEUE``, ``[queue] url``)."""
    from importer.queue.config import queue_url

    return "" if args.journal else queue_url()


def _runs_jobs(args: argparse.Namespace, queue: str) -> list[Any]:
    """The newest jobs of the queue (of ``--target``'s company), whichever
    machine queued or ran them."""
    from importer.queue import list_jobs

    target = _target(args)
    jobs = list_jobs(queue, limit=args.limit)
    if target is not None:
        jobs = [j for j in jobs if j.company == target.connection.target]
    return jobs


def _print_runs_jobs(jobs: list[Any], queue: str) -> None:
    """The queue's jobs under the runs: id, state, target, file, counts and
    the run (``vnimport runs show RUN``) each made."""
    from importer.queue.commands import print_job
    from importer.targets.postgres import safe_url

    print(f"\njobs in the queue {safe_url(queue)}:" if jobs else "\nno jobs in the queue")
    for j in jobs:
        print_job(j)


def _run_target(args: argparse.Namespace) -> str | None:
    """The company a run is looked for against: ``--target``'s, else the
    configured connection's; ``None`` (any) when nothing is configured."""
    from importer.settings import load_connection

    target = _target(args)
    if target is not None:
        return str(target.connection.target)
    connection = load_connection()
    return connection.target if connection is not None else None


def _show_run(args: argparse.Namespace, spec: str) -> int:
    """``vnimport runs show RUN [--out FILE]``: the run's register."""
    from dataclasses import asdict

    from importer.errors import JournalError
    from importer.register import queue_journal, run_register, write_register
    from importer.targets.journal import open_journal

    try:
        journal = _kept_journal(args)
        try:
            register = run_register(journal, spec, target=_run_target(args))
        finally:
            journal.close()
    except (ConfigError, JournalError):
        # a queued job's run is in the journal the queue's workers keep
        queue = _runs_queue(args)
        target = _target(args)
        if not queue or spec == "last":
            raise
        journal = open_journal(queue_journal(target.journal if target else "", queue))
        try:
            register = run_register(journal, spec, target=_run_target(args))
        finally:
            journal.close()
    run = register.run
    if args.out is not None:
        written = write_register(register, args.out)
        print(f"{len(register.documents)} documents of run {run.id} written to {written}")
        return EXIT_OK
    if args.json:
        docs = [
            {k: v for k, v in asdict(d).items() if k not in ("body", "pre_image", "etag")}
            for d in register.documents
        ]
        print(json.dumps({"run": asdict(run), "documents": docs}, ensure_ascii=False, indent=2))
        return EXIT_OK
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started))
    print(f"run {run.id}  {when}  {run.doctype} {run.mode}  {run.file}")
    print(f"    {run.target}  {run.outcome or 'running or killed'}")
    table = [("key", "rows", "number", "state")] + [
        (
            d.key,
            d.rows,
            d.number or "-",
            d.status
            + (f" ({d.code})" if d.code else "")
            + (f", then undo: {d.undo_state}" if d.undo_state else ""),
        )
        for d in register.documents
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[3])
    if not register.documents:
        print("the run came to no document")
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace, registry: Registry) -> int:
    """``vnimport reconcile RUN``: what the run created or updated, read back
    and compared with what the file stated; the workbook, exit 1 on a difference."""
    from importer.reconciliation.compare import reconcile
    from importer.reconciliation.workbook import write_reconciliation
    from importer.register import find_run
    from importer.settings import configured_scopes, is_url
    from importer.targets.client import VismaClient, scopes

    connection = _run_company(args, "reconcile")
    journal = _kept_journal(args)
    path = journal.path
    try:
        run = find_run(journal, args.run, target=connection.target, against="reconcile")
        out: Path = args.out or Path(f"reconcile-{run.id}.xlsx")
        if out.is_dir():
            raise ConfigError(f"{out} is a folder; --out names the workbook to write")
        if out.suffix.lower() != ".xlsx":
            raise ConfigError(f"{out}: the reconciliation is a workbook: name it FILE.xlsx")
        refuse_inputs([out], [] if is_url(path) else [path])  # never over the journal
        refuse_foreign(out, "reconciliation workbook", sheet="Summary")
        doctype = registry.get(run.doctype)
        client = VismaClient(
            connection,
            workers=1,
            timeout=args.timeout,
            scope=configured_scopes() or connection.scope or scopes("read"),
        )
        try:
            result = reconcile(journal, run, client, doctype)
        finally:
            client.session.close()
    finally:
        journal.close()
    written = write_reconciliation(result, out)
    count = len(result.documents)
    print(f"run {run.id} ({run.doctype}, {run.file}): {count} document(s) read back")
    print(result.verdict())
    for d in result.differences[:MAX_LISTED]:
        print(f"  {d.describe()}")
    if len(result.differences) > MAX_LISTED:
        print(f"  ... and {len(result.differences) - MAX_LISTED} more in the workbook")
    print(result.calls.describe())
    print(f"workbook: {written}")
    return result.exit_code


def cmd_watch(args: argparse.Namespace, registry: Registry) -> int:
    """``vnimport watch [ROOT] [--once]``: passes over the root's folders
    until SIGTERM or Ctrl-C, which let the document in flight finish."""
    from importer.watch.config import watch_settings
    from importer.watch.runner import watch_root

    settings = watch_settings(
        root=args.root,
        target=args.target,
        interval=args.interval,
        settle=args.settle,
        registry=registry,
    )
    stop = threading.Event()
    with _stop_on_signals(stop):
        return watch_root(settings, once=args.once, stop=stop, registry=registry, say=_log)


def _log(text: str) -> None:
    """A line of the watcher's log on stderr, with the time."""
    _say(time.strftime("%Y-%m-%d %H:%M:%S ") + text)


def cmd_demo(args: argparse.Namespace, registry: Registry) -> int:
    from importer.demo import run_demo

    print("importing the samples into an embedded sandbox...", file=sys.stderr)
    run = run_demo(args.out, args.workers, registry=registry)
    head = ("type", "documents", "rows", "rows created", "rows not created", "calls")
    table = [head] + [
        (r.doctype, str(r.documents), str(r.rows), str(r.created), str(r.failed), str(r.calls))
        for r in run.results
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    for kind in ("customer", "supplier"):
        made = [ref.number for ref in run.references if ref.kind == kind and ref.created]
        if made:
            print(f"also created, as the documents refer to them: {kind} {', '.join(made)}")
    for ref in run.references:
        if not ref.created:
            print(f"could not create {ref.kind} {ref.number}: {ref.message}", file=sys.stderr)
    for r in run.results:
        if not r.ok:
            print_summary(r.report, sys.stderr)
    print(f"reports (.xlsx, .csv, .json per type) in {run.out}")
    return EXIT_OK if run.ok else EXIT_ROWS


class Progress:
    """Documents done, per second and time left: a bar on a terminal, a plain
    line every ``every`` seconds otherwise (a log file, a nightly job).
    ``clock`` is any monotonic clock; only differences of it are used."""

    def __init__(
        self,
        out: IO[str],
        every: float = 5.0,
        *,
        redraw: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.out = out
        self._wall = wall  # for the time of day a wait ends
        self.tty = out.isatty()
        self.every = redraw if self.tty else every
        self._clock = clock
        self.started = clock()
        self.last: float | None = None  # when a line was last written
        self.drawn = False

    def event(self, event: Any) -> None:
        """Take a :class:`importer.targets.Event`."""
        from importer.targets.client import clock_time

        if event.phase == "waiting":
            now = self._wall()
            until = clock_time(now + event.waiting_s, now)
            self._write(
                f"waiting {event.waiting_s:.0f} s for Visma's rate limit, until {until}",
                force=False,
            )
        elif event.phase == "estimate":
            if event.total >= ESTIMATE_FROM:
                took = (
                    "how long it takes is known after the first answer"
                    if event.waiting_s < 0
                    else "within the quota left in this window"
                    if event.waiting_s == 0
                    else f"at Visma's quota, about {_duration(event.waiting_s)}"
                )
                self._write(f"about {event.total} calls to Visma; {took}", force=True)
        elif event.phase == "settling":
            self._write(
                f"{event.done} document(s) got no clear answer: looked up in Visma "
                f"{event.waiting_s:.0f} s after they were sent (--unknown-grace)",
                force=True,
            )
        elif event.total >= 0:
            self.update(event.done, event.total)

    def update(self, done: int, total: int) -> None:
        now = self._clock()
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0.0
        text = f"{done}/{total} documents, {rate:.1f}/s, {left:.0f} s left"
        if self.tty:
            filled = int(30 * done / total) if total else 30
            text = f"[{'#' * filled}{' ' * (30 - filled)}] {text}"
        self._write(text, force=done >= total)

    def _write(self, text: str, *, force: bool) -> None:
        now = self._clock()
        if not force and self.last is not None and now - self.last < self.every:
            return
        self.last = now
        try:
            if self.tty:
                self.out.write(f"\r{text}\x1b[K")
                self.drawn = True
            else:
                self.out.write(text + "\n")
            self.out.flush()
        except (OSError, ValueError):  # nobody reads any more (a closed pipe): stay quiet
            self.every = float("inf")

    def close(self) -> None:
        if self.drawn:
            self.drawn = False
            with suppress(OSError, ValueError):
                self.out.write("\n")


def cmd_sandbox(args: argparse.Namespace, registry: Registry) -> int:
    from importer.sandbox import DEMO_CLIENT, DEMO_SECRET, DEMO_TENANT
    from importer.sandbox import serve as serve_sandbox
    from importer.sandbox.options import config_from

    config = config_from(args)

    def ready(url: str) -> None:
        print(
            f"Visma.net sandbox on {url}  (API {url}/v1/..., token {url}/connect/token)",
            file=sys.stderr,
        )
        print(
            f"demo client: {DEMO_CLIENT} / {DEMO_SECRET}, tenant {DEMO_TENANT}; "
            f"state: {args.db or 'in memory'}; Ctrl-C stops it",
            file=sys.stderr,
        )
        if args.db:  # a kept sandbox and a fresh journal would disagree about what is there
            from importer.sandbox import journal_beside

            print(
                f"its journal: vnimport run ... --journal {journal_beside(args.db)}",
                file=sys.stderr,
            )

    try:
        serve_sandbox(config, host=args.host, port=args.port, verbose=args.log, ready=ready)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    except KeyboardInterrupt:
        print("sandbox stopped", file=sys.stderr)
    return EXIT_OK


def _finish(args: argparse.Namespace, report: BatchReport) -> None:
    """Write the report, then say how it went (the report first: a closed
    terminal must not cost it)."""
    args.exit_code = report.exit_code
    paths = write_report(report, args.report) if args.report else {}
    args.report_written = bool(paths)
    print_summary(report, sys.stderr, reported=bool(paths))
    if paths:
        print("report: " + ", ".join(str(p) for p in paths.values()), file=sys.stderr)


def print_summary(report: BatchReport, out: IO[str], *, reported: bool = False) -> None:
    """Documents and rows by status, the main reasons by code, then the
    first problems row by row."""

    def counted(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {s}" for s, n in counts.items()) or "none"

    print(
        f"{report.source}: {report.documents} documents ({counted(report.document_counts())}); "
        f"{len(report.results)} rows ({counted(report.counts())})",
        file=out,
    )
    if report.fatal is not None:
        print(f"  stopped: {report.fatal[1]} [{report.fatal[0]}]", file=out)
    reasons = report.reasons()
    if reasons:
        print("  reasons:", file=out)
        for code, title, n in reasons[:MAX_REASONS]:
            print(f"    {n:>6} row(s)  {title} [{code}]", file=out)
        if len(reasons) > MAX_REASONS:
            print(f"    ... {len(reasons) - MAX_REASONS} more in the report", file=out)
    for w in report.file_issues:
        print(f"  warning: {w.message}", file=out)
    mapping = dict(report.extra.get("mapping") or {})
    source = mapping.pop("file", "")
    for rule, cells in mapping.items():
        print(f"  mapping {source}: {rule} changed {cells} cell(s)", file=out)
    listed = 0
    for r in report.results:
        if not r.issues and not r.code:
            continue
        problems = [(i.column, i.message, i.code) for i in r.errors if i.code != "document-invalid"]
        problems += [  # a row may be valid and still worth a look (a negative quantity ...)
            (i.column, f"warning: {i.message}", i.code) for i in r.issues if i.severity == "warning"
        ]
        if r.code and r.message:
            problems.append(("", r.message, r.code))
        for column, message, code in problems:
            if listed == MAX_LISTED:
                more = "in the report" if reported else "in the report (--report PATH)"
                print(f"  ... more {more}", file=out)
                return
            sheet = f" ({r.sheet})" if r.sheet else ""
            where = f", {column}" if column else ""
            print(f"  row {r.row}{sheet}{where}: {message} [{code}]", file=out)
            listed += 1
