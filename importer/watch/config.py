"""The watcher's settings: the ``[watch]`` table of ``vnimport.toml``.

::

    [watch]
    root = "/srv/vnimport/acme"   # or the ROOT argument
    target = "acme"               # a [targets.NAME]; empty: the top-level connection
    interval = 60                 # seconds between passes (without --once)
    settle = 5                    # seconds between the two looks at a file
    extensions = [".xlsx", ".csv"]
    keep_done_days = 90           # 0: done/ keeps every file
    broken_after = 3600           # seconds a file may sit unusable before it is failed
    [watch.folders.customers]     # a folder under ROOT: its type, mode, mapping, expectation
    type = "customer"
    mode = "upsert"
    mapping = "maps/customers.toml"   # relative to vnimport.toml's folder
    expect_every = 86400          # a file at least this often (optional)
    [watch.notify]                # the notifications' (importer.watch.notify)
    [watch.health]

:func:`check_table` is what ``read_config`` asks of the table (its form,
every problem at once, for every command); :func:`watch_settings` reads
it for ``vnimport watch``, with the options over it, and checks what only
the watcher needs (the root exists, the types and mapping files can be
used). ``notify`` and ``health`` belong to the notifications, which check
them when the watcher starts.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.errors import ConfigError, VnimportError
from importer.settings import toml_kind

if TYPE_CHECKING:
    from importer.doctypes import Registry

__all__ = ["WATCH_KEY", "WatchFolder", "WatchSettings", "check_table", "watch_settings"]

WATCH_KEY = "watch"
MODES = ("create", "update", "upsert")
DEFAULTS: dict[str, Any] = {
    "interval": 60.0,
    "settle": 5.0,
    "extensions": (".xlsx", ".csv"),
    "keep_done_days": 90.0,
    "broken_after": 3600.0,
}
# key -> (kind, what it is), for the messages
KEYS: dict[str, tuple[str, str]] = {
    "root": ("text", "the folder watched"),
    "target": ("text", "the company: a [targets.NAME]"),
    "interval": ("positive", "seconds between passes"),
    "settle": ("seconds", "seconds between the two looks at a file"),
    "extensions": ("list", "the file names taken, by their ending"),
    "keep_done_days": ("days", "how many days done/ keeps a file"),
    "broken_after": ("seconds", "how long a file may sit unusable in the inbox"),
    "folders": ("folders", "one table per folder: [watch.folders.NAME]"),
    "notify": ("table", "the per-file notifications"),
    "health": ("table", "the start, success and fail addresses"),
}
FOLDER_KEYS: dict[str, tuple[str, str]] = {
    "type": ("text", "the document type of its files"),
    "mode": ("mode", "create, update or upsert"),
    "mapping": ("text", "a mapping file"),
    "sheet": ("text", "the sheet to read"),
    "release": ("bool", "release each created document"),
    "expect_every": ("positive", "seconds: a file at least this often"),
}


@dataclass(frozen=True)
class WatchFolder:
    """One folder under the root: the type, mode and mapping of its files,
    and how often a file is expected (``None``: no expectation)."""

    name: str
    doctype: str
    mode: str = "create"
    mapping: Path | None = None
    sheet: str | None = None
    release: bool = False
    expect_every: float | None = None


@dataclass(frozen=True)
class WatchSettings:
    """What ``vnimport watch`` watches and how. ``table`` is the ``[watch]``
    table as written (the notifications read ``notify`` and ``health``
    from it); ``where`` names it in messages."""

    root: Path
    folders: tuple[WatchFolder, ...]
    target: str = ""
    interval: float = DEFAULTS["interval"]
    settle: float = DEFAULTS["settle"]
    extensions: tuple[str, ...] = DEFAULTS["extensions"]
    keep_done_days: float = DEFAULTS["keep_done_days"]
    broken_after: float = DEFAULTS["broken_after"]
    table: Mapping[str, Any] = field(default_factory=dict, repr=False)
    where: str = "[watch]"


def check_table(value: Any) -> list[str]:
    """Every problem of a ``[watch]`` table's form, one line each (never a
    value shown: the notifications' tables may hold secrets)."""
    if not isinstance(value, dict):
        return [f"{WATCH_KEY} must be a table: [{WATCH_KEY}]"]
    problems: list[str] = []
    for key, item in value.items():
        if key not in KEYS:
            problems.append(f"[{WATCH_KEY}]: unknown key {key!r}{_near(key, KEYS)}")
            continue
        kind = KEYS[key][0]
        if kind == "folders":
            problems += _check_folders(item)
        elif kind == "table":
            if not isinstance(item, dict):
                problems.append(f"[{WATCH_KEY}]: {key} must be a table: [{WATCH_KEY}.{key}]")
        else:
            problem = _check_value(key, item, kind)
            if problem:
                problems.append(f"[{WATCH_KEY}]: {problem}")
    return problems


def _check_folders(value: Any) -> list[str]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        return [f"[{WATCH_KEY}]: folders must be tables: [{WATCH_KEY}.folders.NAME], one each"]
    problems = []
    for name, table in value.items():
        where = f"[{WATCH_KEY}.folders.{name}]"
        if not _plain_name(name):
            problems.append(
                f"{where}: a folder's name is one plain folder name under the root "
                "(no '/', not hidden, not . or ..)"
            )
        for key, item in table.items():
            if key not in FOLDER_KEYS:
                problems.append(f"{where}: unknown key {key!r}{_near(key, FOLDER_KEYS)}")
                continue
            problem = _check_value(key, item, FOLDER_KEYS[key][0])
            if problem:
                problems.append(f"{where}: {problem}")
        if "type" not in table:
            problems.append(f'{where}: missing type (the document type of its files: type = "...")')
    return problems


def _check_value(key: str, item: Any, kind: str) -> str | None:
    if kind in ("text", "mode"):
        if not isinstance(item, str) or not item.strip():
            return f'{key} must be text in quotes ({key} = "..."), not {toml_kind(item)}'
        if kind == "mode" and item not in MODES:
            return f"{key} is " + ", ".join(f'"{m}"' for m in MODES) + f", not {item!r}"
        return None
    if kind == "bool":
        return (
            None
            if isinstance(item, bool)
            else f"{key} must be true or false, not {toml_kind(item)}"
        )
    if kind == "list":
        if not isinstance(item, list) or not item:
            return f'{key} must be a list of endings ({key} = [".xlsx", ".csv"])'
        bad = [e for e in item if not isinstance(e, str) or not _ending(e)]
        if bad:
            return f'{key}: each is a file name\'s ending with its dot (".xlsx"), not ' + ", ".join(
                repr(b) for b in bad
            )
        return None
    # seconds (0 or more), days (0 or more), positive (above 0)
    number = item if isinstance(item, int | float) and not isinstance(item, bool) else None
    if number is None or not math.isfinite(number) or number < 0:
        return f"{key} must be a number of {'days' if kind == 'days' else 'seconds'} (0 or more)"
    if kind == "positive" and number == 0:
        return f"{key} must be a number of seconds above 0"
    return None


def _ending(text: str) -> bool:
    return len(text) > 1 and text.startswith(".") and "/" not in text and "\\" not in text


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


def _near(key: str, known: Mapping[str, Any]) -> str:
    found = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {found[0]!r}?)" if found else f" (the keys are {', '.join(known)})"


def watch_settings(
    config: Path | None = None,
    *,
    root: Path | None = None,
    target: str | None = None,
    interval: float | None = None,
    settle: float | None = None,
    registry: Registry | None = None,
) -> WatchSettings:
    """The watcher's settings: ``[watch]`` of ``config`` (default: the
    ``vnimport.toml`` of the working folder), the options given here over
    it. One :class:`ConfigError` names every problem: the root, the
    target, each folder's type and mapping file."""
    from importer.settings import CONFIG_FILE, _read_toml, load_target, read_config

    path = config or Path(CONFIG_FILE)
    read_config(path)  # the whole file checked: [watch]'s form among the rest
    table: dict[str, Any] = dict(_read_toml(path).get(WATCH_KEY) or {})
    where = f"[{WATCH_KEY}] in {path}"
    problems: list[str] = []

    root_text = root if root is not None else table.get("root")
    if root_text is None:
        problems.append(
            f'which folder to watch: give ROOT (vnimport watch ROOT), or root = "..." in {where}'
        )
        found_root = Path()
    else:
        found_root = Path(root_text).expanduser()
        if root is None and not found_root.is_absolute():  # as the mapping files
            found_root = path.parent / found_root
        if not found_root.is_dir():
            said = "ROOT" if root is not None else f"root in {where}"
            problems.append(f"{said}: {found_root} is not a folder (the root is not created)")
    name = target if target is not None else str(table.get("target", ""))
    if name == "sandbox":
        problems.append(
            "the watcher sends to a company of vnimport.toml ([targets.NAME]); --target "
            "sandbox starts an empty sandbox for one run"
        )
    elif name:
        try:
            load_target(name, config=path)
        except ConfigError as exc:
            problems.append(str(exc))
    if interval is not None and interval <= 0:
        problems.append("--interval must be a number of seconds above 0")
    folders_table = table.get("folders") or {}
    if not folders_table:
        problems.append(
            f'no folder to watch: add a [{WATCH_KEY}.folders.NAME] table with type = "..." '
            f"to {path} (see docs/watch.md)"
        )
    folders = []
    for folder_name, spec in folders_table.items():
        folder, wrong = _folder(folder_name, spec, path.parent, registry)
        problems += wrong
        folders.append(folder)
    if problems:
        raise ConfigError("; ".join(problems))
    extensions = tuple(e.lower() for e in table.get("extensions", DEFAULTS["extensions"]))
    return WatchSettings(
        root=found_root,
        folders=tuple(folders),
        target=name,
        interval=float(interval if interval is not None else table.get("interval", 60.0)),
        settle=float(settle if settle is not None else table.get("settle", 5.0)),
        extensions=extensions,
        keep_done_days=float(table.get("keep_done_days", DEFAULTS["keep_done_days"])),
        broken_after=float(table.get("broken_after", DEFAULTS["broken_after"])),
        table=table,
        where=where,
    )


def _folder(
    name: str, spec: Mapping[str, Any], base: Path, registry: Registry | None
) -> tuple[WatchFolder, list[str]]:
    """One folder's settings, and what is wrong with them beyond their form."""
    from importer.doctypes import Registry
    from importer.mapping.rules import load_rules

    where = f"[{WATCH_KEY}.folders.{name}]"
    problems = []
    doctype = str(spec["type"])
    try:
        (registry or Registry()).get(doctype)
    except VnimportError as exc:
        problems.append(f"{where}: {exc}")
    mapping = None
    if spec.get("mapping"):
        mapping = Path(str(spec["mapping"])).expanduser()
        if not mapping.is_absolute():
            mapping = base / mapping
        try:
            load_rules(mapping)
        except ConfigError as exc:
            problems.append(f"{where}: {exc}")
    every = spec.get("expect_every")
    folder = WatchFolder(
        name=name,
        doctype=doctype,
        mode=str(spec.get("mode", "create")),
        mapping=mapping,
        sheet=str(spec["sheet"]) if spec.get("sheet") else None,
        release=bool(spec.get("release", False)),
        expect_every=float(every) if every is not None else None,
    )
    return folder, problems
