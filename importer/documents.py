"""A run's results as the people who read them count them: one line per
document (its key, rows, status, Visma's number and, when it is not in
Visma, the first thing said against it, in each language the messages
have). The web app's run page and API show it; a queued job keeps it with
its record, so the page shows the same whichever machine ran the job."""

from __future__ import annotations

from typing import Any

from importer.codes import MESSAGES, render_issue, title

__all__ = ["IN_VISMA", "LANGUAGES", "by_document", "first_problem"]

#: A document's status that means it is in Visma.
IN_VISMA = ("created", "updated", "unchanged", "exists in Visma")
#: The languages a problem is kept in (the messages' own).
LANGUAGES = tuple(MESSAGES)


def by_document(results: list[Any]) -> list[dict[str, Any]]:
    """One line per document: its key, rows, status, Visma's number and,
    when it is not in Visma, its first problem in each language of the
    pages (``problem``: ``{"en": ..., "nb": ...}``; empty when none)."""
    docs: dict[str, dict[str, Any]] = {}
    for r in results:
        key = r.key or f"row {r.row}"
        doc = docs.setdefault(
            key, {"key": key, "rows": [], "status": r.status, "number": "", "problem": {}}
        )
        doc["rows"].append(r.row)
        doc["number"] = doc["number"] or r.number
        if r.status != doc["status"] and r.status not in ("created", "updated", "unchanged"):
            doc["status"] = r.status
    for doc in docs.values():
        if doc["status"] in IN_VISMA:
            continue
        rows = [r for r in results if (r.key or f"row {r.row}") == doc["key"]]
        doc["problem"] = first_problem(rows)
    return list(docs.values())


def first_problem(rows: list[Any]) -> dict[str, str]:
    """The first thing said against a document's rows, in each language:
    an error of its own (not "another row of the document is invalid"),
    else Visma's answer or why it was not sent, else that other row's."""

    def said(issue: Any) -> dict[str, str]:
        where = f"{issue.column}: " if issue.column else ""
        return {lang: where + render_issue(issue, lang) for lang in LANGUAGES}

    for r in rows:
        for issue in r.errors:
            if issue.code != "document-invalid":
                return said(issue)
    for r in rows:
        if r.message:
            return dict.fromkeys(LANGUAGES, str(r.message))
        if r.code:
            return {lang: title(r.code, lang) for lang in LANGUAGES}
    for r in rows:
        for issue in r.issues:
            return said(issue)
    return {}
