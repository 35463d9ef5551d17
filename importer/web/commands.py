"""``vnimport serve`` and ``vnimport users``: their options and what they do.
Flask, waitress and argon2 are imported only when one of them runs (they
are the ``web`` extra)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from importer.errors import ConfigError

__all__ = ["add_parsers", "cmd_serve", "cmd_users"]

ROLES = ("own", "company", "admin")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    data_help = (
        "the web app's folder: its users, uploads and reports (default: web/ beside the "
        "default journal)"
    )
    p = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the web app for accountants and its JSON API (docs/web.md)",
    )
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    p.add_argument("--port", type=int, default=8080, help="the port to listen on")
    p.add_argument("--data", type=Path, metavar="DIR", help=data_help)
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the vnimport.toml whose [targets.NAME] are the companies (default: vnimport.toml)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=int,
        default=25,
        metavar="MB",
        help="the largest file taken",
    )
    p.add_argument(
        "--behind-tls",
        action="store_true",
        help="a reverse proxy terminates TLS in front: session cookies are Secure and its "
        "X-Forwarded-For, -Proto and -Host headers are trusted",
    )

    p = sub.add_parser(
        "users",
        parents=[common],
        help="manage the web app's users",
        description="users add NAME [--targets A,B] [--role own|company|admin] "
        "[--password-stdin] [--data DIR]: add a user and print the API token once; "
        "users token NAME: a new token; users list: the users.",
    )
    usub = p.add_subparsers(dest="users_command", required=True, metavar="COMMAND")
    add = usub.add_parser(
        "add", parents=[common], help="add a user; prints the user's API token once"
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--targets",
        default="",
        metavar="A,B",
        help="the companies ([targets.NAME]) the user may use (default: the only target, "
        "when vnimport.toml has one)",
    )
    add.add_argument(
        "--role",
        choices=ROLES,
        default="own",
        help="own: their own batches; company: all of their companies'; admin: everything "
        "(default: own)",
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.add_argument("--data", type=Path, metavar="DIR", help=data_help)
    token = usub.add_parser(
        "token", parents=[common], help="a new API token for a user (the old one stops working)"
    )
    token.add_argument("name", metavar="NAME")
    token.add_argument("--data", type=Path, metavar="DIR", help=data_help)
    listed = usub.add_parser("list", parents=[common], help="list the users")
    listed.add_argument("--data", type=Path, metavar="DIR", help=data_help)


def _data(args: argparse.Namespace) -> Path:
    from importer.web import default_data_dir

    return Path(args.data) if args.data else default_data_dir()


def _need_web() -> None:
    try:
        import argon2  # noqa: F401
        import flask  # noqa: F401
    except ImportError:
        raise ConfigError('the web app needs its extra: pip install "vnimport[web]"') from None


def cmd_serve(args: argparse.Namespace, registry: Any) -> int:
    _need_web()
    from importer.web import serve

    data = _data(args)
    print(f"vnimport: serving http://{args.host}:{args.port}/ (data in {data})", file=sys.stderr)
    serve(
        data,
        args.config,
        host=args.host,
        port=args.port,
        max_upload=args.max_upload_mb * 1024 * 1024,
        behind_tls=args.behind_tls,
    )
    return 0


def cmd_users(args: argparse.Namespace, registry: Any) -> int:
    _need_web()
    from importer.web.store import Store
    from importer.web.users import add_user, new_token

    store = Store(_data(args) / "web.sqlite")
    if args.users_command == "list":
        for user in store.users():
            print(f"{user.name}\t{user.role}\t{','.join(user.targets) or '(default target)'}")
        return 0
    if args.users_command == "token":
        print(new_token(store, args.name))
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ")
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    token = add_user(store, args.name, password, args.role, targets)
    print(f"vnimport: added {args.name} ({args.role}); the API token, shown once:", file=sys.stderr)
    print(token)
    return 0
