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
    p.add_argument("--db", metavar="PATH", help="keep the state in this SQLite file")
    p.add_argument(
        "--rate-limit", type=int, metavar="N", help="calls per window per client and tenant"
    )
    p.add_argument(
        "--rate-window", type=float, metavar="SECONDS", help="length of a rate-limit window"
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
    p.add_argument("--seed", type=int, default=0, help="seed of the injected faults")
    p.add_argument("--log", action="store_true", help="print a line per request on stderr")


def config_from(args: argparse.Namespace) -> SandboxConfig:
    """The sandbox that ``args`` (parsed by :func:`add_arguments`) describe."""
    defaults = SandboxConfig()
    return SandboxConfig(
        db=args.db or ":memory:",
        rate_limit=args.rate_limit or defaults.rate_limit,
        rate_window=args.rate_window or defaults.rate_window,
        token_lifetime=args.token_lifetime or defaults.token_lifetime,
        faults=Faults(
            latency_ms=args.latency_ms,
            error_500=args.fail_500,
            error_503=args.fail_503,
            throttle_429=args.throttle_429,
            drop_after_commit=args.drop_after_commit,
            slow=args.slow,
            slow_seconds=args.slow_seconds,
            late_commit=args.late_commit,
            late_commit_seconds=args.late_commit_seconds,
            error_500_on=args.fail_500_on,
            seed=args.seed,
        ),
    )
