"""The ``vnimport sandbox`` command's options, and the configuration they
make: kept beside the sandbox, so that a new behaviour and its switch live
together (``importer.cli`` only calls these two)."""

from __future__ import annotations

import argparse

from importer.sandbox.config import Faults, SandboxConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``vnimport sandbox``."""
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback only)"
    )
    p.add_argument("--port", type=int, default=8750, help="port to listen on (default 8750)")
    p.add_argument(
        "--db",
        metavar="PATH",
        help="keep the state (the company and every document) in this SQLite file; "
        "keep the journal of runs against it beside it (importer.sandbox.journal_beside)",
    )
    p.add_argument(
        "--company",
        choices=("demo", "empty", "large"),
        default="demo",
        help="what a new state starts with: the demo company Bryggen Kaffehandel AS "
        "(customers, suppliers, items, VAT codes, accounts, periods...; default), "
        "nothing, or the demo company with 5,000 customers and 2,000 items (large). A kept "
        "--db state keeps its own",
    )
    p.add_argument(
        "--companies",
        type=_count,
        default=0,
        metavar="N",
        help="give the demo client the company tenants company-1 ... company-N beside "
        "demo-company, each with its own documents, --company start and rate-limit window",
    )
    p.add_argument(
        "--no-reference-checks",
        action="store_true",
        help="take documents that refer to items, VAT codes, accounts... the company does "
        "not have, or to a closed period (customers and suppliers must still exist)",
    )
    p.add_argument(
        "--quota",
        choices=("test", "production"),
        default="production",
        help="Visma's calls per hour per client and company: test 500, production 15,000",
    )
    p.add_argument(
        "--rate-limit",
        type=int,
        metavar="N",
        help="calls per window per client and tenant (overrides --quota)",
    )
    p.add_argument(
        "--rate-window",
        type=float,
        metavar="SECONDS",
        help="length of a rate-limit window (overrides --quota's hour)",
    )
    p.add_argument(
        "--reset-format",
        choices=("seconds", "epoch", "date"),
        default="seconds",
        help="X-RateLimit-Reset as seconds to the reset, an epoch time or an HTTP date "
        "(Retry-After: seconds, or an HTTP date with 'date')",
    )
    p.add_argument(
        "--token-lifetime", type=float, metavar="SECONDS", help="how long a token is valid"
    )
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    p.add_argument(
        "--fail-500", type=float, default=0.0, metavar="SHARE", help="share of calls answered 500"
    )
    p.add_argument(
        "--fail-503", type=float, default=0.0, metavar="SHARE", help="share of calls answered 503"
    )
    p.add_argument(
        "--throttle-429",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of calls answered 429 (rate limited)",
    )
    p.add_argument(
        "--gateway-502",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of calls answered 502 by a gateway",
    )
    p.add_argument(
        "--error-body",
        choices=("json", "html", "text", "empty"),
        default="json",
        help="the body of injected 500, 502, 503 and 429 answers: Visma's JSON, "
        "or a gateway's HTML page, plain text or nothing",
    )
    p.add_argument(
        "--drop-after-commit",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="creates stored, then the connection dropped unanswered",
    )
    p.add_argument(
        "--slow",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="answers held back for --slow-seconds",
    )
    p.add_argument(
        "--slow-seconds", type=float, default=5.0, help="how long a --slow answer is held back"
    )
    p.add_argument(
        "--late-commit",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of creates left unanswered and committed --late-commit-seconds later",
    )
    p.add_argument(
        "--late-commit-seconds",
        type=float,
        default=40.0,
        help="how long after the request a --late-commit create is stored",
    )
    p.add_argument(
        "--fail-500-on",
        default="",
        metavar="TEXT",
        help="answer 500 to every create whose body holds TEXT, as Visma does for some bad data",
    )
    p.add_argument(
        "--release-seconds",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long after it is accepted a release is done in the background",
    )
    p.add_argument(
        "--release-fail-on",
        default="",
        metavar="TEXT",
        help="the background release of a document whose body holds TEXT fails",
    )
    p.add_argument(
        "--forbid-on",
        default="",
        metavar="TEXT",
        help="answer 403 to every API call whose path or body holds TEXT",
    )
    p.add_argument(
        "--max-body",
        type=int,
        default=16 * 1024 * 1024,
        metavar="BYTES",
        help="largest request body taken (413 above it)",
    )
    p.add_argument(
        "--connection-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="an idle connection, or a request not whole this long after its first byte, "
        "is cut off",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the injected faults")
    p.add_argument("--log", action="store_true", help="print a line per request on stderr")


def _count(text: str) -> int:
    """A whole number, 0 or more (an option's value)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a whole number, 0 or more, not {text!r}")
    return value


def config_from(args: argparse.Namespace) -> SandboxConfig:
    """The sandbox that ``args`` (parsed by :func:`add_arguments`) describe."""
    defaults = SandboxConfig()
    return SandboxConfig(
        db=args.db or ":memory:",
        company=args.company,
        companies=args.companies,
        check_references=not args.no_reference_checks,
        quota=args.quota,
        rate_limit=args.rate_limit or None,
        rate_window=args.rate_window or None,
        token_lifetime=args.token_lifetime or defaults.token_lifetime,
        release_seconds=args.release_seconds,
        max_body=args.max_body,
        connection_timeout=args.connection_timeout,
        faults=Faults(
            latency_ms=args.latency_ms,
            error_500=args.fail_500,
            error_503=args.fail_503,
            throttle_429=args.throttle_429,
            gateway_502=args.gateway_502,
            error_body=args.error_body,
            reset_format=args.reset_format,
            drop_after_commit=args.drop_after_commit,
            slow=args.slow,
            slow_seconds=args.slow_seconds,
            late_commit=args.late_commit,
            late_commit_seconds=args.late_commit_seconds,
            error_500_on=args.fail_500_on,
            release_fail_on=args.release_fail_on,
            forbid_on=args.forbid_on,
            seed=args.seed,
        ),
    )
