"""What a notification says, and how each channel is given it.

A :class:`Message` is made once (:func:`file_message`, :func:`overdue_message`,
:func:`pass_message`) and written for each channel: plain text for e-mail
(:func:`as_text`), ``{"text": ...}`` for a Slack-style incoming webhook
(:func:`as_slack`), an Adaptive Card for a Teams workflow (:func:`as_teams`),
and the facts as JSON for a generic webhook (:attr:`Message.data`).

It holds names, counts, the first problems (at most :data:`MAX_PROBLEMS`,
each cut to :data:`MAX_LINE` characters), where the report is and the run's
id; never a row's cells, never a secret. Every text that comes from a file
or a folder is made one line (a file name with a line break cannot add a
header to an e-mail), and for Slack ``&``, ``<`` and ``>`` are escaped, so
a file name cannot ping a channel (``<!channel>``) or hide a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from importer.codes import STATUSES
from importer.watch.outcome import FileOutcome

__all__ = [
    "MAX_LINE",
    "MAX_PROBLEMS",
    "Message",
    "as_slack",
    "as_teams",
    "as_text",
    "duration",
    "file_message",
    "overdue_message",
    "pass_message",
]

MAX_PROBLEMS = 5  # problems shown; the report has them all
MAX_LINE = 200  # characters of one problem, a message, a reason
MAX_SUBJECT = 150
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_VERB = {
    "imported": "imported",
    "failed": "failed",
    "refused": "refused",
    "duplicate": "already imported",
}


@dataclass(frozen=True)
class Message:
    """One notification: a subject line, facts (label, value) in order, the
    first problems, and the facts as data for a generic webhook."""

    event: str  # "file", "overdue", "pass-failed"
    subject: str
    facts: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()
    more: int = 0  # problems not shown here
    failed: bool = True
    data: dict[str, Any] = field(default_factory=dict)


def one_line(text: object, limit: int = MAX_LINE) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def file_message(outcome: FileOutcome, host: str) -> Message:
    counts = _ordered(outcome.counts)
    total = sum(counts.values())
    bad = sum(n for s, n in counts.items() if s not in STATUSES or STATUSES[s].exit_code)
    at = f" at {one_line(outcome.company, 60)}" if outcome.company else ""
    verb = _VERB.get(outcome.status, one_line(outcome.status, 30))
    subject = f"vnimport: {one_line(outcome.file, 80)} {verb}{at}"
    if outcome.status == "failed" and total:
        subject += f": {bad} of {total} rows"
    elif outcome.status == "imported" and total:
        subject += f": {total} rows"
    elif outcome.status == "refused" and outcome.message:
        subject += f": {one_line(outcome.message)}"
    problems = [one_line(p) for p in outcome.problems if str(p).strip()]
    if outcome.status == "refused" and problems == [one_line(outcome.message)]:
        problems = []  # the reason is in the subject and the status already
    shown = tuple(problems[:MAX_PROBLEMS])
    reports = {k: str(v) for k, v in outcome.reports.items()}
    report = reports.get("xlsx") or next(iter(reports.values()), "")
    facts = [
        ("File", one_line(outcome.file)),
        ("Folder", one_line(outcome.folder)),
        ("Type", one_line(outcome.doctype)),
        ("Company", one_line(outcome.company)),
        ("Status", verb),
        ("Message", one_line(outcome.message)),
        ("Rows", _rows(total, counts)),
        ("Report", report),
        ("Fix-me", reports.get("fixme", "")),
        ("File now", str(outcome.moved_to or "")),
        ("Run", one_line(outcome.run_id)),
        ("Host", one_line(host)),
    ]
    data = {
        "event": "file",
        "summary": one_line(subject, MAX_SUBJECT),
        "file": one_line(outcome.file),
        "folder": one_line(outcome.folder),
        "type": outcome.doctype,
        "company": outcome.company,
        "status": outcome.status,
        "failed": outcome.failed,
        "rows": total,
        "rows_not_fine": bad,
        "counts": counts,
        "problems": list(shown),
        "more_problems": len(problems) - len(shown),
        "message": one_line(outcome.message),
        "run_id": outcome.run_id,
        "moved_to": str(outcome.moved_to) if outcome.moved_to else None,
        "reports": reports,
        "host": host,
    }
    return Message(
        "file",
        one_line(subject, MAX_SUBJECT),
        tuple((k, v) for k, v in facts if v),
        shown,
        len(problems) - len(shown),
        outcome.failed,
        data,
    )


def overdue_message(
    folder: str, doctype: str, last: float | None, every: float, host: str
) -> Message:
    since = _when(last) if last is not None else "none yet"
    subject = (
        f"vnimport: no file in {one_line(folder, 60)} ({one_line(doctype, 40)}) "
        f"for more than {duration(every)}"
    )
    facts = (
        ("Folder", one_line(folder)),
        ("Type", one_line(doctype)),
        ("Expected", f"a file every {duration(every)}"),
        ("Last file", since),
        ("Host", one_line(host)),
    )
    data = {
        "event": "overdue",
        "summary": one_line(subject, MAX_SUBJECT),
        "folder": one_line(folder),
        "type": doctype,
        "every_seconds": every,
        "last": _when(last) if last is not None else None,
        "last_epoch": last,
        "host": host,
    }
    return Message("overdue", one_line(subject, MAX_SUBJECT), facts, data=data)


def pass_message(reason: str, host: str) -> Message:
    why = one_line(reason or "no reason was given", 500)
    subject = f"vnimport on {one_line(host, 60)}: a pass failed: {why}"
    facts = (("Why", why), ("Host", one_line(host)))
    data = {
        "event": "pass-failed",
        "summary": one_line(subject, MAX_SUBJECT),
        "reason": why,
        "host": host,
    }
    return Message("pass-failed", one_line(subject, MAX_SUBJECT), facts, data=data)


# ----------------------------------------------------------------- channels


def as_text(message: Message) -> str:
    """The plain-text body of an e-mail."""
    width = max(len(label) for label, _ in message.facts) + 1
    lines = [message.subject, ""]
    lines += [f"{label + ':':<{width}} {value}" for label, value in message.facts]
    lines += _problem_lines(message)
    return "\n".join(lines) + "\n"


def as_slack(message: Message) -> dict[str, Any]:
    """A Slack-style incoming webhook's body (Mattermost and Rocket.Chat take it too)."""
    lines = [f"*{_slack(message.subject)}*"]
    lines += [f"{_slack(label)}: {_slack(value)}" for label, value in message.facts]
    lines += [_slack(line) for line in _problem_lines(message)]
    return {"text": "\n".join(lines)}


def as_teams(message: Message) -> dict[str, Any]:
    """A Teams workflow webhook's body ("Post to a channel when a webhook
    request is received"): a message with one Adaptive Card."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.subject,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": "Attention" if message.failed else "Good",
        },
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": value} for label, value in message.facts],
        },
    ]
    body += [{"type": "TextBlock", "text": line, "wrap": True} for line in _problem_lines(message)]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def duration(seconds: float) -> str:
    """``seconds`` as a person says it: 90 s, 45 min, 1 h 30 min, 24 h, 2 days."""
    if seconds < 120:
        return f"{seconds:g} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} min"
    if minutes:
        return f"{hours} h {minutes} min"
    if hours >= 48 and hours % 24 == 0:
        return f"{hours // 24} days"
    return f"{hours} h"


# ----------------------------------------------------------------- helpers


def _problem_lines(message: Message) -> list[str]:
    if not message.problems:
        return []
    lines = ["", "First problems:" if message.more else "Problems:"]
    lines += [f"- {p}" for p in message.problems]
    if message.more:
        lines.append(f"(and {message.more} more: see the report)")
    return lines


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    known = [s for s in STATUSES if counts.get(s)]
    others = sorted(s for s in counts if s not in STATUSES and counts[s])
    return {one_line(s, 40): int(counts[s]) for s in known + others}


def _rows(total: int, counts: dict[str, int]) -> str:
    if not counts:
        return ""
    return f"{total}: " + ", ".join(f"{status} {n}" for status, n in counts.items())


def _when(epoch: float) -> str:
    """A moment in the machine's own time zone, with its offset."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="minutes")


def _slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
