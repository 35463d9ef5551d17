"""The web app's settings: the ``[serve]`` table of ``vnimport.toml``.

::

    [serve]
    host = "127.0.0.1"          # the address to listen on
    port = 8080
    data = "/srv/vnimport/web"  # users, uploads, reports (relative: to vnimport.toml's folder)
    max_upload_mb = 25          # the largest file taken
    max_rows = 100000           # the most data rows a file may have
    behind_tls = false          # a reverse proxy terminates TLS in front
    keep_uploads_days = 7       # uploads and their checked copies are deleted after this
    trusted_header = ""         # e.g. "X-Remote-User": single sign-on by the proxy
    session_hours = 12          # a sign-in lasts this long
    store = "postgresql://..."  # users, batches, runs and their files in PostgreSQL

:func:`check_table` is what ``read_config`` asks of the table (its form,
every problem at once, for every command); :func:`serve_settings` reads it
for ``vnimport serve``, the command-line options over it. Durations are
written as the ``[watch]`` table writes them: a plain number, its unit in
the key's name (``keep_done_days`` there, ``keep_uploads_days`` here).
Nothing here imports Flask.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.errors import ConfigError

__all__ = ["KEYS", "SERVE_KEY", "ServeSettings", "check_table", "serve_settings"]

SERVE_KEY = "serve"
MAX_READER_ROWS = 1_048_576  # the reader's own limit (a spreadsheet's)
# key -> (kind, what it is, default as the docs show it)
KEYS: dict[str, tuple[str, str, str]] = {
    "host": ("text", "the address to listen on", "127.0.0.1"),
    "port": ("port", "the port to listen on", "8080"),
    "data": (
        "text",
        "the web app's folder: users, uploads, reports (relative to vnimport.toml's folder)",
        "web/ beside the default journal",
    ),
    "max_upload_mb": ("positive", "the largest file taken, in MB", "25"),
    "max_rows": ("rows", "the most data rows a file may have", "100000"),
    "behind_tls": ("bool", "a reverse proxy terminates TLS in front", "false"),
    "keep_uploads_days": (
        "days",
        "days an upload and its checked copies are kept (0: kept for ever); run reports stay",
        "7",
    ),
    "trusted_header": (
        "header",
        "the request header a reverse proxy signs users in with (single sign-on)",
        "none: ignored",
    ),
    "session_hours": ("positive", "how long a sign-in lasts, in hours", "12"),
    "store": (
        "address",
        "the PostgreSQL database (postgresql://...) of the users, batches, runs and their "
        "files and reports, for servers on several machines",
        "the default journal's when it is PostgreSQL, else web.sqlite in data",
    ),
}
_HEADER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
# Headers a client or every proxy sets: never an identity.
_NOT_IDENTITY = {
    "authorization",
    "cookie",
    "host",
    "content-type",
    "content-length",
    "user-agent",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
}


@dataclass(frozen=True)
class ServeSettings:
    """What ``vnimport serve`` serves and how."""

    host: str = "127.0.0.1"
    port: int = 8080
    data: Path | None = None  # None: web/ beside the default journal
    max_upload_mb: float = 25
    max_rows: int = 100_000
    behind_tls: bool = False
    keep_uploads_days: float = 7
    trusted_header: str = ""
    session_hours: float = 12
    store: str = ""  # "": the default journal's PostgreSQL, else web.sqlite in data

    @property
    def max_upload(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def keep_uploads(self) -> float:
        """Seconds; 0: kept for ever."""
        return self.keep_uploads_days * 86400


def check_table(value: Any) -> list[str]:
    """Every problem of a ``[serve]`` table, one line each."""
    if not isinstance(value, dict):
        return [f"{SERVE_KEY} must be a table: [{SERVE_KEY}]"]
    problems = []
    for key, item in value.items():
        if key not in KEYS:
            found = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = (
                f" (did you mean {found[0]!r}?)" if found else f" (the keys are {', '.join(KEYS)})"
            )
            problems.append(f"[{SERVE_KEY}]: unknown key {key!r}{hint}")
            continue
        problem = _check_value(key, item, KEYS[key][0])
        if problem:
            problems.append(f"[{SERVE_KEY}]: {problem}")
    return problems


def _check_value(key: str, item: Any, kind: str) -> str | None:
    from importer.settings import toml_kind

    if kind == "address":
        if not isinstance(item, str):
            return (
                f'{key} must be text in quotes ({key} = "postgresql://..."), not {toml_kind(item)}'
            )
        if not item.startswith(("postgresql://", "postgres://")):
            # the value is not shown: it may hold a password
            return f'{key} must be a PostgreSQL address ({key} = "postgresql://user@host/db")'
        return None
    if kind in ("text", "header"):
        if not isinstance(item, str) or (kind == "text" and not item.strip()):
            return f'{key} must be text in quotes ({key} = "..."), not {toml_kind(item)}'
        if kind == "header" and item:
            if not _HEADER.fullmatch(item):
                return f'{key} is a header name of letters, digits and "-" (e.g. "X-Remote-User")'
            if item.lower() in _NOT_IDENTITY:
                return f"{key} cannot be {item}: clients or every proxy set it"
        return None
    if kind == "bool":
        return (
            None
            if isinstance(item, bool)
            else f"{key} must be true or false, not {toml_kind(item)}"
        )
    number = item if isinstance(item, int | float) and not isinstance(item, bool) else None
    if kind == "port":
        if not isinstance(number, int) or not 1 <= number <= 65535:
            return f"{key} must be a whole number from 1 to 65535"
        return None
    if kind == "rows":
        if not isinstance(number, int) or not 1 <= number <= MAX_READER_ROWS:
            return f"{key} must be a whole number from 1 to {MAX_READER_ROWS:,}"
        return None
    if number is None or not math.isfinite(number) or number < 0:
        return f"{key} must be a number (0 or more)"
    if kind == "positive" and number == 0:
        return f"{key} must be a number above 0"
    return None


def serve_settings(
    config: Path | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    data: Path | None = None,
    max_upload_mb: float | None = None,
    max_rows: int | None = None,
    behind_tls: bool | None = None,
) -> ServeSettings:
    """``[serve]`` of ``config`` (default: the ``vnimport.toml`` of the
    working folder), the options given here over it (``None``: not given)."""
    from importer.settings import CONFIG_FILE, _read_toml, read_config

    path = config or Path(CONFIG_FILE)
    read_config(path)  # the whole file checked: [serve]'s form among the rest
    table: dict[str, Any] = dict(_read_toml(path).get(SERVE_KEY) or {})
    checks: list[tuple[str, float | None, float, float]] = [
        ("--port", port, 1, 65535),
        ("--max-upload-mb", max_upload_mb, 1e-9, math.inf),
        ("--max-rows", max_rows, 1, MAX_READER_ROWS),
    ]
    for option, given, low, high in checks:
        if given is not None and not low <= given <= high:
            shown = f"from {low:,.0f} to {high:,.0f}" if high < math.inf else "above 0"
            raise ConfigError(f"{option} must be a number {shown}")
    data_text = table.get("data")
    found_data: Path | None = None
    if data is not None:
        found_data = data
    elif data_text:
        found_data = Path(data_text).expanduser()
        if not found_data.is_absolute():  # as [watch]'s root and the mapping files
            found_data = path.parent / found_data
    default = ServeSettings()
    return ServeSettings(
        host=host if host is not None else str(table.get("host", default.host)),
        port=port if port is not None else int(table.get("port", default.port)),
        data=found_data,
        max_upload_mb=(
            max_upload_mb
            if max_upload_mb is not None
            else float(table.get("max_upload_mb", default.max_upload_mb))
        ),
        max_rows=max_rows if max_rows is not None else int(table.get("max_rows", default.max_rows)),
        behind_tls=bool(behind_tls) or bool(table.get("behind_tls", default.behind_tls)),
        keep_uploads_days=float(table.get("keep_uploads_days", default.keep_uploads_days)),
        trusted_header=str(table.get("trusted_header", "")),
        session_hours=float(table.get("session_hours", default.session_hours)),
        store=str(table.get("store", "")),
    )
