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
    p.add_argument(
        "--host",
        default=_Unset("127.0.0.1"),
        help="the address to listen on; beats host in [serve] of vnimport.toml",
    )
    p.add_argument(
        "--port",
        type=int,
        default=_UnsetInt(8080),
        help="the port to listen on; beats port in [serve]",
    )
    p.add_argument("--data", type=Path, metavar="DIR", help=data_help + "; beats data in [serve]")
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the vnimport.toml whose [targets.NAME] are the companies and whose [serve] "
        "holds these settings (default: vnimport.toml)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=int,
        default=_UnsetInt(25),
        metavar="MB",
        help="the largest file taken; beats max_upload_mb in [serve]",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=_UnsetInt(100_000),
        metavar="ROWS",
        help="the most data rows a file may have; beats max_rows in [serve]",
    )
    p.add_argument(
        "--behind-tls",
        action="store_true",
        help="a reverse proxy terminates TLS in front: session cookies are Secure and its "
        "X-Forwarded-For, -Proto and -Host headers are trusted (or behind_tls in [serve])",
    )

    p = sub.add_parser(
        "users",
        parents=[common],
        help="manage the web app's users",
        description="users add NAME [--targets A,B] [--role own|company|admin] "
        "[--password-stdin] [--data DIR]: add a user and print the API token once; "
        "users token NAME: a new token; users change NAME [--role R] [--targets A,B]; "
        "users list: the users.",
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
    change = usub.add_parser("change", parents=[common], help="change a user's role or companies")
    change.add_argument("name", metavar="NAME")
    change.add_argument(
        "--targets",
        metavar="A,B",
        help="the companies the user may use, in place of the ones they had ('' for the "
        "default target only)",
    )
    change.add_argument("--role", choices=ROLES, help="the user's new role")
    change.add_argument("--data", type=Path, metavar="DIR", help=data_help)
    listed = usub.add_parser("list", parents=[common], help="list the users")
    listed.add_argument("--data", type=Path, metavar="DIR", help=data_help)


class _Unset(str):
    """An option's default, told apart from the same value given: the
    ``[serve]`` table beats the one, the option beats the table."""


class _UnsetInt(int):
    """:class:`_Unset` for a number."""


def _given(value: Any) -> Any:
    return None if isinstance(value, _Unset | _UnsetInt) else value


def _data(args: argparse.Namespace) -> Path:
    """``--data``, else ``data`` in ``[serve]`` of vnimport.toml, else the default."""
    from importer.web import default_data_dir
    from importer.web.config import serve_settings

    if args.data:
        return Path(args.data)
    return serve_settings(getattr(args, "config", None)).data or default_data_dir()


def _need_web() -> None:
    try:
        import argon2  # noqa: F401
        import flask  # noqa: F401
    except ImportError:
        raise ConfigError('the web app needs its extra: pip install "vnimport[web]"') from None


def cmd_serve(args: argparse.Namespace, registry: Any) -> int:
    _need_web()
    from importer.web.config import serve_settings

    settings = serve_settings(
        args.config,
        host=_given(args.host),
        port=_given(args.port),
        data=args.data,
        max_upload_mb=_given(args.max_upload_mb),
        max_rows=_given(args.max_rows),
        behind_tls=args.behind_tls or None,
    )
    run_server(settings, args.config)
    return 0


def run_server(settings: Any, config: Path | None, threads: int = 8) -> None:
    """Serve the app with waitress (a production WSGI server) until
    interrupted, the clean-up of old uploads running at start and then
    hourly in a daemon thread."""
    import waitress

    from importer.web import default_data_dir
    from importer.web.app import create_app

    data = settings.data or default_data_dir()
    app = create_app(
        data,
        config,
        max_upload=settings.max_upload,
        behind_tls=settings.behind_tls,
        max_rows=settings.max_rows,
        keep_uploads=settings.keep_uploads,
        trusted_header=settings.trusted_header,
        session_hours=settings.session_hours,
        store=settings.store,
    )
    cleanup = app.extensions["vnimport.cleanup"]
    cleanup.start()
    print(
        f"vnimport: serving http://{settings.host}:{settings.port}/ (data in {data}, "
        f"records in {app.extensions['vnimport'].store.where})",
        file=sys.stderr,
    )
    try:
        waitress.serve(
            app, host=settings.host, port=settings.port, threads=threads, ident="vnimport"
        )
    finally:
        cleanup.stop()


def cmd_users(args: argparse.Namespace, registry: Any) -> int:
    _need_web()
    from importer.web.config import serve_settings
    from importer.web.store import Store, store_spec
    from importer.web.users import add_user, change_user, new_token

    data = _data(args)
    store = Store(store_spec(data, serve_settings(getattr(args, "config", None)).store))
    if args.users_command == "list":
        for user in store.users():
            print(f"{user.name}\t{user.role}\t{','.join(user.targets) or '(default target)'}")
        return 0
    if args.users_command == "change":
        known = store.user(args.name)
        if known is None:
            raise ConfigError(f"there is no user {args.name!r}")
        targets = (
            list(known.targets)
            if args.targets is None
            else [t.strip() for t in args.targets.split(",") if t.strip()]
        )
        role = args.role or known.role
        change_user(store, args.name, role, targets)
        print(f"vnimport: {args.name} is {role}, {','.join(targets) or '(default target)'}")
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
