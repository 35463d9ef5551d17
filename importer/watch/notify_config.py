"""``[watch.notify]`` and ``[watch.health]`` of ``vnimport.toml``, checked:
every key, every value's kind, what goes together (e-mail needs a server,
a sender and recipients; a login needs a password and STARTTLS). The SMTP
password comes from the environment or a file, never from vnimport.toml
itself, and no message shows it or a web address (a webhook's path is
its password).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from importer.errors import ConfigError
from importer.settings import toml_kind
from importer.watch.senders import Mail

__all__ = ["HEALTH_KEYS", "NOTIFY_KEYS", "WHEN", "read_tables"]

WHEN = ("failures", "always")
# key -> (kind, what it is), for the messages
NOTIFY_KEYS: dict[str, tuple[str, str]] = {
    "when": ("when", "which files are told: " + " or ".join(f'"{w}"' for w in WHEN)),
    "webhook": ("url", "a generic webhook: the outcome as JSON"),
    "slack": ("url", "a Slack-style incoming webhook"),
    "teams": ("url", "a Teams workflow webhook"),
    "email_to": ("addresses", "who gets the e-mail"),
    "email_from": ("address", "the e-mail's sender"),
    "smtp_host": ("text", "the SMTP server"),
    "smtp_port": ("port", "the SMTP server's port"),
    "smtp_starttls": ("bool", "STARTTLS before anything is sent"),
    "smtp_user": ("text", "the SMTP login"),
    "smtp_password_env": ("text", "the environment variable with the SMTP password"),
    "smtp_password_file": ("text", "a file with the SMTP password"),
}
HEALTH_KEYS: dict[str, tuple[str, str]] = {
    "start": ("url", "called before each pass"),
    "success": ("url", "called after a pass that ran, every file fine"),
    "fail": ("url", "called when a pass could not run or a file failed"),
}
_EMAIL_KEYS = ("email_to", "email_from", "smtp_host")
_PASSWORD_WAYS = ("smtp_password_env", "smtp_password_file")


def read_tables(
    watch_table: Mapping[str, Any], where: str, env: Mapping[str, str]
) -> dict[str, Any]:
    """The notifications' settings in ``watch_table`` (the ``[watch]``
    table; ``where`` names it: ``[watch] in PATH``), as keywords of
    :class:`importer.watch.notify.NotifySettings`; a :class:`ConfigError`
    naming every key that is wrong and what it may be."""
    notify = watch_table.get("notify", {})
    health = watch_table.get("health", {})
    problems: list[str] = []
    for name, table, keys in (("notify", notify, NOTIFY_KEYS), ("health", health, HEALTH_KEYS)):
        problems += _check_table(name, table, keys, _place(where, name))
    if problems:
        raise ConfigError("; ".join(problems))
    mail = _mail(notify, _place(where, "notify"), env, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    return {
        "when": notify.get("when", "failures"),
        "webhook": notify.get("webhook", ""),
        "slack": notify.get("slack", ""),
        "teams": notify.get("teams", ""),
        "mail": mail,
        "start": health.get("start", ""),
        "success": health.get("success", ""),
        "fail": health.get("fail", ""),
    }


def _place(where: str, table: str) -> str:
    """``[watch] in PATH`` -> ``[watch.notify] in PATH``."""
    if where.startswith("[watch]"):
        return f"[watch.{table}]" + where[len("[watch]") :]
    return f"[watch.{table}] in {where}"


def _check_table(
    name: str, table: Any, keys: Mapping[str, tuple[str, str]], place: str
) -> list[str]:
    if not isinstance(table, Mapping):
        return [f"{place}: {name} must be a table: [watch.{name}]"]
    problems = []
    for key, value in table.items():
        if key == "smtp_password" and name == "notify":
            problems.append(
                f"{place}: the SMTP password cannot be written in the file (it is copied, "
                'backed up and shown): use smtp_password_env = "VARIABLE" (an environment '
                'variable) or smtp_password_file = "PATH" (a file only vnimport can read)'
            )
        elif key not in keys:
            near = difflib.get_close_matches(str(key), list(keys), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"the keys are {', '.join(keys)}"
            problems.append(f"{place}: unknown key {key!r} ({hint})")
        elif problem := _check_value(key, value, keys[key][0]):
            problems.append(f"{place}: {problem}")
    return problems


def _check_value(key: str, value: Any, kind: str) -> str | None:
    """What is wrong with one value; a web address is never shown (its
    path is a password)."""
    if kind == "port":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{key} must be a whole number ({key} = 587), not {toml_kind(value)}"
        return None if 0 < value < 65536 else f"{key} must be a port, 1 to 65535, not {value}"
    if kind == "bool":
        return (
            None if isinstance(value, bool) else f"{key} is true or false, not {toml_kind(value)}"
        )
    if kind == "addresses":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            return f'{key} must be a list of e-mail addresses ({key} = ["ops@example.com"])'
        bad = [v for v in values if not _address(v)]
        return f"{key}: not an e-mail address: {', '.join(map(repr, bad))}" if bad else None
    if not isinstance(value, str):
        return f'{key} must be text in quotes ({key} = "..."), not {toml_kind(value)}'
    if kind == "when" and value not in WHEN:
        return f"{key} is " + " or ".join(f'"{w}"' for w in WHEN) + f", not {value!r}"
    if kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
            return f"{key} is not a web address (https://...)"
    if kind == "address" and not _address(value):
        return f"{key}: not an e-mail address: {value!r}"
    if kind == "text" and not value.strip():
        return f"{key} is empty"
    return None


def _address(value: Any) -> bool:
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        return False
    _, address = parseaddr(value)
    return "@" in address and " " not in address


def _mail(
    notify: Mapping[str, Any], place: str, env: Mapping[str, str], problems: list[str]
) -> Mail | None:
    """The e-mail settings, or ``None`` when no e-mail key is set; what is
    wrong goes to ``problems``."""
    if not any(k.startswith(("email_", "smtp_")) for k in notify):
        return None
    missing = [k for k in _EMAIL_KEYS if k not in notify]
    if missing:
        problems.append(
            f"{place}: e-mail needs {', '.join(_EMAIL_KEYS)}: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing"
        )
    starttls = bool(notify.get("smtp_starttls", True))
    user = str(notify.get("smtp_user", ""))
    ways = [k for k in _PASSWORD_WAYS if k in notify]
    password = ""
    if len(ways) > 1:
        problems.append(f"{place}: give the SMTP password one way: {' or '.join(_PASSWORD_WAYS)}")
    elif ways and not user:
        problems.append(f"{place}: an SMTP password without smtp_user: set smtp_user too")
    elif user and not ways:
        problems.append(
            f"{place}: smtp_user needs a password: smtp_password_env or smtp_password_file"
        )
    elif ways:
        password = _password(ways[0], str(notify[ways[0]]), env, place, problems)
    if user and not starttls:
        problems.append(
            f"{place}: a login without smtp_starttls would send the password unencrypted: "
            "set smtp_starttls = true (or leave smtp_user out)"
        )
    if problems:
        return None
    to = notify["email_to"]
    return Mail(
        host=notify["smtp_host"],
        port=int(notify.get("smtp_port", 587 if starttls else 25)),
        starttls=starttls,
        user=user,
        password=password,
        sender=notify["email_from"],
        to=(to,) if isinstance(to, str) else tuple(to),
    )


def _password(way: str, value: str, env: Mapping[str, str], place: str, problems: list[str]) -> str:
    if way == "smtp_password_env":
        if not env.get(value):
            problems.append(
                f"{place}: the environment variable {value} (smtp_password_env) is not set"
            )
        return env.get(value, "")
    try:
        secret = Path(value).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not text"
        problems.append(f"{place}: smtp_password_file {value} cannot be read ({why})")
        return ""
    if not secret:
        problems.append(f"{place}: smtp_password_file {value} is empty")
    return secret
