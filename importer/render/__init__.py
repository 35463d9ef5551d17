"""Render stage: each valid document becomes the request Visma.net takes.

:func:`render_requests` is the stage's one entry. Behind it a document
type's template runs either in the sandboxed Jinja environment
(:mod:`importer.render.engine`) or, when its shape allows, as plain Python
compiled from it (:mod:`importer.render.specialize`,
:mod:`importer.render.compile`), which gives the same text. A template that
fails on one document becomes a ``template-error`` on that document's rows;
the others are rendered as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from importer.issues import RowIssue

if TYPE_CHECKING:  # the render engines load with the document types, before these
    from importer.batch import Batch
    from importer.doctypes import DocType
    from importer.group import Document

__all__ = ["Request", "render_requests"]


@dataclass(slots=True)
class Request:
    """One document's request: DESIGN.md's preview record, with the body as
    compact JSON text (parsed only when asked for) and the document it was
    made from."""

    type: str
    key: str
    rows: list[int]
    method: str
    path: str
    text: str
    document: Document
    doctype: DocType

    @property
    def body(self) -> Any:
        return json.loads(self.text)

    def json_line(self) -> str:
        """The preview record as one line of JSON, built around the body
        text without parsing it again."""
        rows = ",".join(map(str, self.rows))
        return (
            f'{{"type":{encode_basestring(self.type)},"key":{encode_basestring(self.key)},'
            f'"rows":[{rows}],"method":{encode_basestring(self.method)},'
            f'"path":{encode_basestring(self.path)},"body":{self.text}}}'
        )

    def document_path(self, action: str, number: str) -> tuple[str, str]:
        """``(method, path)`` of ``action`` (``update``, ``get``) on the
        document Visma numbered ``number``."""
        method, path = self.doctype.endpoint(action)
        return method, path.replace("{number}", quote(number, safe=""))

    def record(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "key": self.key,
            "rows": self.rows,
            "method": self.method,
            "path": self.path,
            "body": self.body,
        }


def render_requests(batch: Batch) -> Iterator[Request]:
    """The request of every valid document, in file order."""
    doctype = batch.doctype
    method, path = doctype.endpoint("create")
    render = doctype.renderer(batch.colmap.columns_set | batch.carried)
    for doc in batch.documents:
        if not doc.valid:
            continue
        try:
            text = render(doc.header, doc.lines)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # the template's bug, or a value it cannot take
            _template_failed(doc, str(doctype.template_path.name), exc)
            continue
        yield Request(doctype.name, doc.key, doc.row_numbers, method, path, text, doc, doctype)


def _template_failed(doc: Document, template: str, exc: Exception) -> None:
    detail = f"{type(exc).__name__}: {exc}".strip()[:500]
    params = {"template": template, "detail": detail}
    for row in doc.rows:
        row.issues.append(
            RowIssue.from_key(row.number, "", "template-error", params, sheet=row.sheet)
        )
