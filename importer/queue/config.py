"""The queue's settings: ``VNIMPORT_QUEUE``, else the ``[queue]`` table of
``vnimport.toml``.

::

    [queue]
    url = "postgresql://vnimport@db.example/vnimport"  # or VNIMPORT_QUEUE
    concurrency = 4        # jobs one worker runs at once (each a company of its own)
    heartbeat = 10         # seconds between a worker's heartbeats
    stalled_after = 60     # seconds without a heartbeat: the worker is dead
    recover_every = 30     # seconds between the recovery task's looks for dead workers' jobs
    poll = 5               # seconds between a worker's looks for new jobs (it is told at once too)

:func:`check_table` is what ``read_config`` asks of the table (every
problem at once); :func:`queue_settings` reads it, with the environment and
the options over it. The address may hold a password: it is never shown
(:func:`importer.targets.postgres.safe_url`).
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.settings import CONFIG_FILE, _read_toml, read_config, toml_kind

__all__ = ["ENV", "QUEUE_KEY", "QueueSettings", "check_table", "queue_settings"]

QUEUE_KEY = "queue"
ENV = "VNIMPORT_QUEUE"
# key -> (kind, what it is, default)
KEYS: dict[str, tuple[str, str, Any]] = {
    "url": ("url", "the queue's PostgreSQL database (postgresql://...)", ""),
    "concurrency": ("count", "jobs one worker runs at once", 4),
    "heartbeat": ("positive", "seconds between a worker's heartbeats", 10.0),
    "stalled_after": ("positive", "seconds without a heartbeat after which a worker is dead", 60.0),
    "recover_every": ("positive", "seconds between the recovery task's looks", 30.0),
    "poll": ("positive", "seconds between a worker's looks for new jobs", 5.0),
}


@dataclass(frozen=True)
class QueueSettings:
    url: str
    concurrency: int = 4
    heartbeat: float = 10.0
    stalled_after: float = 60.0
    recover_every: float = 30.0
    poll: float = 5.0

    def __repr__(self) -> str:
        from importer.targets.postgres import safe_url

        return (
            f"QueueSettings(url={safe_url(self.url)!r}, concurrency={self.concurrency}, "
            f"heartbeat={self.heartbeat}, stalled_after={self.stalled_after}, "
            f"recover_every={self.recover_every}, poll={self.poll})"
        )


def is_queue_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def check_table(value: Any) -> list[str]:
    """What is wrong with a ``[queue]`` table, every problem at once; never
    shows a value (the address may hold a password)."""
    if not isinstance(value, Mapping):
        return [f"{QUEUE_KEY} must be a table: [{QUEUE_KEY}]"]
    problems = []
    for key, item in value.items():
        where = f"[{QUEUE_KEY}] {key}"
        if key not in KEYS:
            near = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(
                f"[{QUEUE_KEY}]: unknown key {key!r}{hint} (the keys: {', '.join(KEYS)})"
            )
            continue
        kind = KEYS[key][0]
        if kind == "url":
            if not isinstance(item, str):
                problems.append(f"{where} must be text in quotes, not {toml_kind(item)}")
            elif item and not is_queue_url(item):
                problems.append(f"{where} is a PostgreSQL address: postgresql://USER@HOST/DATABASE")
        elif kind == "count":
            if isinstance(item, bool) or not isinstance(item, int) or item < 1:
                problems.append(f"{where} is a whole number, 1 or more, not {toml_kind(item)}")
        elif (
            isinstance(item, bool)
            or not isinstance(item, int | float)
            or not (item > 0 and math.isfinite(item))
        ):
            problems.append(f"{where} is a number of seconds above 0, not {toml_kind(item)}")
    return problems


def queue_url(env: Mapping[str, str] | None = None, config: Path | None = None) -> str:
    """The queue's address: ``VNIMPORT_QUEUE``, else ``url`` in ``[queue]``;
    empty when no queue is configured (jobs run in-process)."""
    env = os.environ if env is None else env
    if env.get(ENV):
        return env[ENV]
    table = _table(config)
    return str(table.get("url", ""))


def _table(config: Path | None) -> dict[str, Any]:
    path = config or Path(CONFIG_FILE)
    read_config(path)  # the whole file checked: an unknown key anywhere is said
    found = _read_toml(path).get(QUEUE_KEY, {})
    return dict(found) if isinstance(found, Mapping) else {}


def queue_settings(
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
    **given: Any,
) -> QueueSettings:
    """The queue's settings: options given here (``None``: not given) over
    the environment over ``[queue]`` over the defaults. No queue configured
    is a :class:`ConfigError` that says how to configure one."""
    env = os.environ if env is None else env
    table = _table(config)
    values: dict[str, Any] = {k: d for k, (_, _, d) in KEYS.items()}
    values.update(table)
    values.update({k: v for k, v in given.items() if v is not None})
    url = env.get(ENV) or str(values.get("url") or "")
    if not url:
        raise ConfigError(
            f"no queue is configured: set {ENV}=postgresql://USER@HOST/DATABASE, or url in "
            f"[{QUEUE_KEY}] of {CONFIG_FILE} (see docs/scale-out.md)"
        )
    if not is_queue_url(url):
        raise ConfigError(
            f"{ENV if env.get(ENV) else f'[{QUEUE_KEY}] url'} is a PostgreSQL address "
            "(postgresql://USER@HOST/DATABASE)"
        )
    problems = check_table({k: v for k, v in values.items() if k != "url"})
    if problems:
        raise ConfigError("; ".join(problems))
    if values["stalled_after"] <= values["heartbeat"]:
        raise ConfigError(
            f"[{QUEUE_KEY}] stalled_after ({values['stalled_after']} s) must be longer than "
            f"heartbeat ({values['heartbeat']} s): a live worker would be taken for dead"
        )
    return QueueSettings(
        url=url,
        concurrency=int(values["concurrency"]),
        heartbeat=float(values["heartbeat"]),
        stalled_after=float(values["stalled_after"]),
        recover_every=float(values["recover_every"]),
        poll=float(values["poll"]),
    )
