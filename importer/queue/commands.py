"""``vnimport worker``, ``vnimport enqueue`` and ``vnimport jobs``: thin
shells over :mod:`importer.queue` (the parsers and handlers; importer.cli
adds them)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from importer.errors import ConfigError

__all__ = ["add_parsers", "cmd_enqueue", "cmd_jobs", "cmd_worker"]

EXIT_OK, EXIT_ROWS, EXIT_FATAL = 0, 1, 2


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number, 1 or more")
    return int(text)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "worker",
        parents=[common],
        help="run queued jobs (VNIMPORT_QUEUE or [queue] in vnimport.toml), one job per "
        "company at a time across every worker; applies the queue's schema when it is missing "
        "(docs/scale-out.md)",
    )
    p.add_argument(
        "--concurrency",
        type=_count,
        metavar="N",
        help="jobs this worker runs at once, each for a company of its own (default: "
        "concurrency in [queue], else 4)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="run the jobs queued now and exit when the queue is empty (default: wait for "
        "jobs until SIGTERM or Ctrl-C)",
    )
    p.add_argument(
        "--check-schema",
        action="store_true",
        help="only check that the queue's schema is there, never apply it (for a role that "
        "may not create tables)",
    )
    p.add_argument(
        "--heartbeat",
        type=_positive,
        metavar="SECONDS",
        help="seconds between this worker's heartbeats (default: heartbeat in [queue], else 10)",
    )
    p.add_argument(
        "--stalled-after",
        type=_positive,
        metavar="SECONDS",
        help="a worker silent this long is dead and its job re-queued (default: "
        "stalled_after in [queue], else 60)",
    )
    p.add_argument(
        "--recover-every",
        type=_positive,
        metavar="SECONDS",
        help="seconds between the recovery task's looks for dead workers' jobs (default: "
        "recover_every in [queue], else 30)",
    )
    p.add_argument(
        "--poll",
        type=_positive,
        metavar="SECONDS",
        help="seconds between looks for new jobs, besides being told of them (default: poll "
        "in [queue], else 5)",
    )

    p = sub.add_parser(
        "enqueue",
        parents=[common],
        help="queue a file for the workers: its job's id on standard output",
    )
    p.add_argument("file", type=Path, help="the .xlsx or .csv file (stored with the job)")
    p.add_argument("--type", "-t", required=True, dest="doctype", help="document type")
    p.add_argument(
        "--target",
        required=True,
        metavar="NAME",
        help="the company: a [targets.NAME] of vnimport.toml, the same name on every worker "
        "(the job carries the name, never the secret)",
    )
    p.add_argument(
        "--mode",
        choices=("create", "update", "upsert"),
        default="create",
        help="create new documents, update existing ones, or both",
    )
    p.add_argument("--mapping", type=Path, metavar="FILE", help="a mapping file (TOML), stored "
                   "with the job")  # fmt: skip
    p.add_argument("--sheet", help="the sheet to read (default: the first)")
    p.add_argument("--release", action="store_true", help="release each created document")
    p.add_argument(
        "--yes",
        action="store_true",
        help="a production target takes the file even though no test target took it",
    )
    p.add_argument("--json", action="store_true", help="the job as JSON instead of its id")

    p = sub.add_parser("jobs", parents=[common], help="list, cancel or retry queued jobs")
    p.add_argument(
        "action",
        nargs="*",
        metavar="ACTION",
        help="list (the default), show ID, cancel ID (a running job stops after the document "
        "in flight) or retry ID (a failed, cancelled or finished job, again)",
    )
    p.add_argument("--limit", type=_count, default=50, help="list at most this many jobs")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _need_procrastinate() -> None:
    try:
        import procrastinate  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the queue needs Procrastinate and psycopg: pip install 'vnimport[queue]'"
        ) from None


def _log(text: str) -> None:
    print(time.strftime("%Y-%m-%d %H:%M:%S ") + text, file=sys.stderr, flush=True)


def cmd_worker(args: argparse.Namespace, registry: Any) -> int:
    _need_procrastinate()
    from importer.queue.app import ensure_schema, run_worker
    from importer.queue.config import queue_settings
    from importer.targets.postgres import safe_url

    settings = queue_settings(
        concurrency=args.concurrency,
        heartbeat=args.heartbeat,
        stalled_after=args.stalled_after,
        recover_every=args.recover_every,
        poll=args.poll,
    )
    done = ensure_schema(settings.url, apply=not args.check_schema)
    what = "applied" if done == "applied" else "found"
    _log(
        f"worker: queue {safe_url(settings.url)} (schema {what}), {settings.concurrency} "
        f"job(s) at once, heartbeat every {settings.heartbeat:g} s, dead after "
        f"{settings.stalled_after:g} s"
    )
    return run_worker(settings, wait=not args.once, say=_log)


def cmd_enqueue(args: argparse.Namespace, registry: Any) -> int:
    _need_procrastinate()
    from importer.jobs import Job
    from importer.queue import enqueue, job_status

    registry.get(args.doctype)  # an unknown type is said here, not on a worker
    if not args.file.is_file():
        raise ConfigError(f"{args.file}: no such file")
    job = Job(
        file=args.file,
        doctype=args.doctype,
        target=args.target,
        mode=args.mode,
        mapping=args.mapping,
        sheet=args.sheet,
        release=args.release,
        yes=args.yes,
    )
    job_id = enqueue(job)
    if args.json:
        print(json.dumps(job_status(job_id).as_dict(), ensure_ascii=False, indent=2))
    else:
        print(job_id)
    return EXIT_OK


def cmd_jobs(args: argparse.Namespace, registry: Any) -> int:
    _need_procrastinate()
    from importer.queue import cancel_job, job_status, list_jobs, retry_job

    action = args.action or ["list"]
    verb = action[0]
    if verb == "list" and len(action) == 1:
        jobs = list_jobs(limit=args.limit)
        if args.json:
            print(json.dumps([j.as_dict() for j in jobs], ensure_ascii=False, indent=2))
            return EXIT_OK
        for j in jobs:
            print_job(j)
        if not jobs:
            print("no jobs in the queue")
        return EXIT_OK
    if verb in ("show", "cancel", "retry") and len(action) == 2 and action[1].isdigit():
        job_id = int(action[1])
        if verb == "show":
            found = job_status(job_id)
            if args.json:
                print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
            else:
                print_job(found, full=True)
            return EXIT_OK
        said = cancel_job(job_id) if verb == "cancel" else retry_job(job_id)
        if args.json:
            print(json.dumps(job_status(job_id).as_dict(), ensure_ascii=False, indent=2))
        else:
            print(said)
        return EXIT_OK
    raise ConfigError(
        f"vnimport jobs takes list, show ID, cancel ID or retry ID, not {' '.join(action)!r}"
    )


def print_job(j: Any, *, full: bool = False) -> None:
    """A job in two lines (``vnimport jobs``, ``vnimport runs``): id, state,
    when, target, type, mode, file; counts, attempt, worker and run."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(j.created))
    counts = ", ".join(f"{n} {s}" for s, n in j.counts.items()) or "-"
    print(f"{j.id}  {j.shown_state:9}  {when}  {j.target}  {j.doctype} {j.mode}  {j.file_name}")
    line = f"    {counts}"
    if j.attempts:
        line += f"; attempt {j.attempts} ({j.worker})"
    if j.run_id:
        line += f"; run {j.run_id}"
    print(line)
    if j.message and (full or j.shown_state in ("failed", "cancelled", "queued")):
        print(f"    {j.message}")
    if full and j.reports:
        print("    reports: " + ", ".join(f"{k}: {v}" for k, v in j.reports.items()))
