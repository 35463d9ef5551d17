"""Settings: one declared table, read from the environment, else ``vnimport.toml``.

:data:`SETTINGS` lists every setting vnimport reads: its environment
variable, its key in ``vnimport.toml`` (if it has one), its kind, default and
description, and whether it is a secret. Loading, the error messages and
``docs/configuration.md`` all come from it (a test keeps the page in step).

A command-line option beats the environment, which beats ``vnimport.toml``,
which beats the default. ``vnimport.toml`` is read from the folder vnimport
starts in; a key it does not know, or a value that is not text, stops the run
with a message that names the file and the key: a typo must not quietly leave
a setting at its default. Secret values are never shown: not in a repr, an
error message, a log line, a report or the journal.

``[targets.NAME]`` tables (one connection per company) are reserved and
refused for now: the settings marked ``per_target`` are the ones such a table
will hold, checked by the same code as the top-level keys.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from importer.errors import ConfigError

CONFIG_FILE = "vnimport.toml"
TARGETS_KEY = "targets"  # reserved for [targets.NAME], one connection per company
WATCH_KEY = "watch"  # [watch]: the folder watcher's (importer.watch.config checks it)
SERVE_KEY = "serve"  # [serve]: the web app's (importer.web.config checks it)
QUEUE_KEY = "queue"  # [queue]: the queue's and its workers' (importer.queue.config checks it)
SCOPE_WORDS = ("read", "create", "update", "delete")  # vismanet_erp_service_api:<word>

Kind = Literal["text", "url", "path", "paths", "seconds"]


@dataclass(frozen=True)
class Setting:
    """One setting, as the user writes it and as the docs describe it."""

    name: str
    env: str  # the environment variable
    toml: str | None  # the key in vnimport.toml; None: not read from the file
    kind: Kind  # text; url (http:// or https://); path; paths (os.pathsep between); seconds
    description: str
    default: str | None = None  # as the docs show it; None: no default
    secret: bool = False  # never shown: not in a repr, a message or a report
    option: str | None = None  # the command-line option that beats it
    per_target: bool = False  # part of the connection to one company
    example: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base_url",
        "VNIMPORT_BASE_URL",
        "base_url",
        "url",
        "the Visma.net Financials API",
        per_target=True,
        example="https://api.finance.visma.net",
    ),
    Setting(
        "token_url",
        "VNIMPORT_TOKEN_URL",
        "token_url",
        "url",
        "where vnimport gets its access token (Visma Connect)",
        per_target=True,
        example="https://connect.visma.com/connect/token",
    ),
    Setting(
        "client_id",
        "VNIMPORT_CLIENT_ID",
        "client_id",
        "text",
        "the client id of your integration in the Visma Developer Portal",
        per_target=True,
    ),
    Setting(
        "client_secret",
        "VNIMPORT_CLIENT_SECRET",
        "client_secret",
        "text",
        "the client secret that goes with the client id",
        secret=True,
        per_target=True,
    ),
    Setting(
        "tenant_id",
        "VNIMPORT_TENANT_ID",
        "tenant_id",
        "text",
        "the company's tenant id in Visma.net: which company the documents go to",
        per_target=True,
    ),
    Setting(
        "journal",
        "VNIMPORT_JOURNAL",
        None,
        "path",
        "the journal of what was sent where, so that nothing is sent twice; "
        "one per user, wherever vnimport starts from; a postgresql:// address keeps it "
        "in PostgreSQL, shared by runners on several machines",
        default="$XDG_STATE_HOME/vnimport/journal.sqlite (~/.local/state/vnimport/journal.sqlite)",
        option="--journal",
    ),
    Setting(
        "scopes",
        "VNIMPORT_SCOPES",
        "scopes",
        "text",
        "the scopes vnimport asks the token endpoint for, separated by spaces (read, "
        "create, update, delete, or in full: vismanet_erp_service_api:read ...); by "
        "default only what the command needs: read, and create (--mode create, --release) "
        "or update (--mode update), or both (--mode upsert); never delete",
        option="--scopes",
    ),
    Setting(
        "types_path",
        "VNIMPORT_TYPES_PATH",
        None,
        "paths",
        "extra folders of document types, separated by ':' (';' on Windows); searched "
        "after the --types-dir folders and before the built-in types",
        option="--types-dir",
    ),
    Setting(
        "queue",
        "VNIMPORT_QUEUE",
        None,
        "text",
        "the queue of jobs that workers on any number of machines run (vnimport worker, "
        "enqueue, jobs): a postgresql:// address; also url in [queue] of vnimport.toml, "
        "with the workers' settings (docs/scale-out.md)",
        default="none: jobs run in the process that takes them",
    ),
    Setting(
        "lists_max_age",
        "VNIMPORT_LISTS_MAX_AGE",
        "lists_max_age",
        "seconds",
        "how long the company's lists that a preflight reads from Visma (customers, items, "
        "VAT codes, accounts, periods ...) are kept and used again, in seconds; kept "
        "beside the journal (JOURNAL.lists/), else in $XDG_CACHE_HOME/vnimport/lists; "
        "0 reads them afresh every time",
        default="3600",
        option="--lists-max-age",
    ),
)

BY_NAME = {s.name: s for s in SETTINGS}
BY_TOML = {s.toml: s for s in SETTINGS if s.toml}
CONNECTION = tuple(s for s in SETTINGS if s.per_target)


@dataclass(frozen=True)
class Connection:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    tenant_id: str
    scope: str = ""  # the token scopes; empty: what the command needs
    # The job a run belongs to: sent as X-Vnimport-Job on every API call (never
    # to the token endpoint), so that the calls of one job can be told apart.
    # A worker sets it per job (dataclasses.replace); empty: not sent.
    job: str = field(default="", compare=False)

    @property
    def target(self) -> str:
        """What the journal keys on: the API and the company, never the client."""
        return f"{self.base_url.rstrip('/')}#{self.tenant_id}"


def load_connection(
    env: Mapping[str, str] | None = None, config: Path | None = None
) -> Connection | None:
    """The connection settings, or ``None`` when nothing is configured.
    Half a configuration is an error that names what is missing."""
    env = os.environ if env is None else env
    path = config or Path(CONFIG_FILE)
    from_file = read_config(path)
    values: dict[str, str] = {}
    found: dict[str, str] = {}  # setting name -> where its value came from
    for s in CONNECTION:
        if env.get(s.env):
            values[s.name], found[s.name] = env[s.env], s.env
        elif s.toml and from_file.get(s.toml):
            values[s.name], found[s.name] = from_file[s.toml], f"{s.toml} in {path}"
    if not values:
        return None
    missing = [s for s in CONNECTION if s.name not in values]
    if missing:
        raise ConfigError(_incomplete(missing, found, env, path))
    for s in CONNECTION:
        _check_value(s, values[s.name], found[s.name])
    return Connection(**values)


# The keys of a [targets.NAME] table: the connection's, the three ways of
# giving its secret, and the journal it uses.
SECRET_WAYS = ("client_secret", "client_secret_env", "client_secret_file")
TARGET_KEYS = (
    *(s.name for s in CONNECTION if not s.secret),
    *SECRET_WAYS,
    "journal",
    "kind",
    "untested_files",
)
KINDS = ("test", "production")  # kind = "...": a test company, or the books themselves
UNTESTED = ("ask", "allow")  # untested_files = "...": on a production target
RESERVED_TARGETS = ("sandbox",)  # --target sandbox: the embedded stand-in


@dataclass(frozen=True)
class Target:
    """A named connection to one Visma.net company (``[targets.NAME]``) and
    the journal it uses (empty: the default journal). The journal, its
    claims and locks are keyed on the company (:attr:`Connection.target`),
    never on the name."""

    name: str
    connection: Connection
    journal: str = ""
    kind: str = ""  # "test", "production", or "" (not said)
    untested_files: str = "ask"  # on a production target: "allow" sends a file no test run saw


def load_target(
    name: str, env: Mapping[str, str] | None = None, config: Path | None = None
) -> Target:
    """The target ``name`` of ``vnimport.toml``; a :class:`ConfigError`
    that says what to write when it is missing or incomplete."""
    env = os.environ if env is None else env
    path = config or Path(CONFIG_FILE)
    read_config(path)  # the whole file checked: an unknown key anywhere is said
    tables = _targets(path)
    if name not in tables:
        near = difflib.get_close_matches(name, list(tables), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        known = ", ".join(tables) or "none"
        raise ConfigError(
            f"no target {name!r} in {path}{hint}; its targets: {known}. A target is a "
            f"[{TARGETS_KEY}.{name}] table with {', '.join(TARGET_KEYS[:4])} and one of "
            f"{', '.join(SECRET_WAYS)} (see docs/configuration.md)"
        )
    table = tables[name]
    where = f"[{TARGETS_KEY}.{name}] in {path}"
    ways = [k for k in SECRET_WAYS if k in table]
    if len(ways) != 1:
        raise ConfigError(
            f"{where}: give the client secret one way: {', '.join(SECRET_WAYS)} "
            f"(found {', '.join(ways) or 'none'})"
        )
    secret = _secret(ways[0], table[ways[0]], env, where)
    missing = [s.name for s in CONNECTION if not s.secret and not table.get(s.name)]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    values = {s.name: table[s.name] for s in CONNECTION if not s.secret}
    for s in CONNECTION:
        if not s.secret:
            _check_value(s, values[s.name], where)
    connection = Connection(**values, client_secret=secret)
    return Target(
        name,
        connection,
        table.get("journal", ""),
        table.get("kind", ""),
        table.get("untested_files", "ask"),
    )


def load_targets(config: Path | None = None) -> list[Target]:
    """Every target of ``vnimport.toml`` whose secret can be read (a target
    whose secret is missing here is left out: it cannot have been run from
    here)."""
    found = []
    for name in target_names(config):
        try:
            found.append(load_target(name, config=config))
        except ConfigError:
            continue
    return found


def target_names(config: Path | None = None) -> list[str]:
    return list(_targets(config or Path(CONFIG_FILE)))


def _targets(path: Path) -> dict[str, dict[str, str]]:
    data = _read_toml(path)
    found = data.get(TARGETS_KEY, {})
    return found if isinstance(found, dict) else {}


def _secret(way: str, value: str, env: Mapping[str, str], where: str) -> str:
    if way == "client_secret":
        return value
    if way == "client_secret_env":
        if not env.get(value):
            raise ConfigError(f"{where}: the environment variable {value} is not set")
        return env[value]
    try:
        secret = Path(value).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{where}: client_secret_file {value} cannot be read ({exc.strerror})"
        ) from None
    if not secret:
        raise ConfigError(f"{where}: client_secret_file {value} is empty")
    return secret


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def read_config(path: Path) -> dict[str, str]:
    """The settings in a ``vnimport.toml``, checked against :data:`SETTINGS`;
    empty when there is no such file. Every problem of the file is in the one
    error it raises."""
    data = _read_toml(path)
    problems = [p for key, value in data.items() if (p := _check_key(key, value))]
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return {
        key: value
        for key, value in data.items()
        if value and key not in (TARGETS_KEY, WATCH_KEY, SERVE_KEY, QUEUE_KEY)
    }


def how_to_configure() -> str:
    """What to do when no connection is configured at all."""
    names = [f"{s.env} ({s.example})" if s.example else s.env for s in CONNECTION]
    keys = ", ".join(s.toml for s in CONNECTION if s.toml)
    return (
        "no Visma.net connection is configured: set "
        + ", ".join(names[:-1])
        + f" and {names[-1]}, or write them to {CONFIG_FILE} in lower case ({keys}); "
        "or try it with --target sandbox (see docs/configuration.md)"
    )


def configured_scopes(
    given: str | None = None,
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> str:
    """The token scopes the user asked for (``--scopes``, then
    ``VNIMPORT_SCOPES``, then ``scopes`` in vnimport.toml), in full; empty
    when none: each command then asks for what it needs."""
    env = os.environ if env is None else env
    text = (
        given
        or env.get(BY_NAME["scopes"].env)
        or read_config(config or Path(CONFIG_FILE)).get("scopes", "")
    )
    prefix = "vismanet_erp_service_api:"
    found = []
    for word in text.replace(",", " ").split():
        short = word.removeprefix(prefix)
        if short not in SCOPE_WORDS:
            raise ConfigError(
                f"{word!r} is not a Visma.net API scope; the scopes are "
                f"{', '.join(SCOPE_WORDS)} (or in full, {prefix}read ...)"
            )
        found.append(prefix + short)
    return " ".join(dict.fromkeys(found))


def default_journal(env: Mapping[str, str] | None = None) -> str:
    """:func:`default_journal_path`, or ``$VNIMPORT_JOURNAL`` as it is when
    it is a ``postgresql://`` address."""
    env = os.environ if env is None else env
    given = env.get(BY_NAME["journal"].env, "")
    if given.startswith(("postgresql://", "postgres://")):
        return given
    return str(default_journal_path(env))


def is_url(journal: str | Path) -> bool:
    return str(journal).startswith(("postgresql://", "postgres://"))


def default_journal_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the journal lives unless ``--journal`` says otherwise: one per
    user, wherever the run starts from (a nightly job's working folder may
    change; its journal must not): ``$VNIMPORT_JOURNAL``, else
    ``$XDG_STATE_HOME/vnimport/journal.sqlite`` (``~/.local/state/...``)."""
    env = os.environ if env is None else env
    journal = BY_NAME["journal"].env
    if env.get(journal):
        return Path(env[journal])
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "vnimport" / "journal.sqlite"


def lists_max_age(
    given: float | None = None,
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> float:
    """How many seconds the company's lists a preflight read are used again
    (``--lists-max-age``, then ``VNIMPORT_LISTS_MAX_AGE``, then
    ``lists_max_age`` in vnimport.toml, then 3600)."""
    if given is not None:
        return given
    env = os.environ if env is None else env
    setting = BY_NAME["lists_max_age"]
    path = config or Path(CONFIG_FILE)
    if env.get(setting.env):
        text, where = env[setting.env], setting.env
    else:
        text, where = read_config(path).get("lists_max_age", ""), f"lists_max_age in {path}"
    if not text:
        return float(setting.default or 0)
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ConfigError(f"{where}: {text!r} is not a number of seconds (0 or more)")
    return seconds


def types_path(env: Mapping[str, str] | None = None) -> list[Path]:
    """The folders of ``$VNIMPORT_TYPES_PATH``, in order (``--types-dir`` goes first)."""
    env = os.environ if env is None else env
    return [Path(d) for d in env.get(BY_NAME["types_path"].env, "").split(os.pathsep) if d]


# ------------------------------------------------------------------ checks


def _check_key(key: str, value: Any) -> str | None:
    """What is wrong with one top-level entry of vnimport.toml, if anything.
    Never shows the value: it may be a secret."""
    if key == TARGETS_KEY:
        return _check_targets(value)
    if key == WATCH_KEY:
        from importer.watch.config import check_table

        return "; ".join(check_table(value)) or None
    if key == QUEUE_KEY:
        from importer.queue.config import check_table as check_queue

        return "; ".join(check_queue(value)) or None
    if key == SERVE_KEY:
        from importer.web.config import check_table as check_serve

        return "; ".join(check_serve(value)) or None
    setting = BY_TOML.get(key)
    if setting is None:
        return _unknown(key)
    if not isinstance(value, str):
        return f'{key} must be text in quotes ({key} = "..."), not {toml_kind(value)}'
    return None


def _check_targets(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        return f"{TARGETS_KEY} must be tables: [{TARGETS_KEY}.NAME], one per company"
    problems = []
    for name, table in value.items():
        if name in RESERVED_TARGETS:
            problems.append(f"[{TARGETS_KEY}.{name}]: {name!r} is reserved (--target {name})")
        for key, item in table.items():
            if key not in TARGET_KEYS:
                near = difflib.get_close_matches(key, TARGET_KEYS, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                problems.append(f"[{TARGETS_KEY}.{name}]: unknown key {key!r}{hint}")
            elif not isinstance(item, str):
                problems.append(
                    f'[{TARGETS_KEY}.{name}]: {key} must be text in quotes ({key} = "..."), '
                    f"not {toml_kind(item)}"
                )
            elif key in ("kind", "untested_files") and item not in (
                KINDS if key == "kind" else UNTESTED
            ):
                allowed = KINDS if key == "kind" else UNTESTED
                problems.append(
                    f"[{TARGETS_KEY}.{name}]: {key} is "
                    + " or ".join(f'"{a}"' for a in allowed)
                    + f", not {item!r}"
                )
    return "; ".join(problems) or None


def _unknown(key: str) -> str:
    plain = key.lower().removeprefix("vnimport_")
    env_only = [s for s in SETTINGS if s.toml is None and plain in (s.name, s.env.lower())]
    if env_only:
        s = env_only[0]
        ways = f"{s.env} or {s.option}" if s.option else s.env
        return f"{key!r} cannot be set in {CONFIG_FILE}: use {ways}"
    near = plain if plain in BY_TOML else next(iter(difflib.get_close_matches(plain, BY_TOML)), "")
    if near:
        return f"unknown key {key!r} (did you mean {near!r}?)"
    return f"unknown key {key!r} (the keys are {', '.join(BY_TOML)})"


def toml_kind(value: object) -> str:
    """What a TOML value is, in words, for a message about the wrong kind."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "text" if value else "empty text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return "a date or time"


def _check_value(s: Setting, value: str, where: str) -> None:
    if s.kind == "url" and not value.startswith(("https://", "http://")):
        shown = "the value" if s.secret else repr(value)
        example = f", e.g. {s.example}" if s.example else ""
        raise ConfigError(f"{where}: {shown} is not a web address (https://...{example})")


def _incomplete(
    missing: list[Setting], found: Mapping[str, str], env: Mapping[str, str], path: Path
) -> str:
    message = (
        "the connection to Visma.net is not complete: set "
        + ", ".join(s.env for s in missing)
        + f" (in the environment, or as {', '.join(str(s.toml) for s in missing)} in {path})"
        + "; found "
        + ", ".join(found.values())
    )
    # A misspelt variable is the likeliest reason one is missing: name it.
    known = [s.env for s in SETTINGS]
    for name in sorted(env):
        if name.startswith("VNIMPORT_") and name not in known:
            near = difflib.get_close_matches(name, [s.env for s in missing], n=1)
            if near:
                message += f" ({name} is set: did you mean {near[0]}?)"
    return message
