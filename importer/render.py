"""Render stage: a document becomes the request body of the Visma.net API.

One sandboxed Jinja environment, built here and nowhere else. Every ``{{ }}``
expression is passed through :func:`_json_literal`, so a template emits JSON
literals only: a cell value is always one JSON string or number, whatever it
contains, and cannot open or close a field. Fields whose value is empty are
then dropped from the body (Visma wants them omitted, never ``null``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from importer.errors import DocTypeError

Body = dict[str, Any]


def _json_literal(value: Any) -> str:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


# -------------------------------------------------------------- filters


def datetime_filter(value: str | None) -> str | None:
    """``2025-01-27`` → ``2025-01-27T00:00:00``: the spec's date-time format."""
    if value is None:
        return None
    return value if "T" in value else f"{value}T00:00:00"


def segments_filter(value: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    """``{"1": "00", "2": "100"}`` → Visma's ``[{"segmentId": 1, "segmentValue": "00"}, ...]``."""
    if not value:
        return None
    items = [(int(k), v) for k, v in value.items() if v is not None]
    return [{"segmentId": k, "segmentValue": v} for k, v in sorted(items)] or None


FILTERS = {"datetime": datetime_filter, "segments": segments_filter}


class _Environment(SandboxedEnvironment):
    """The sandbox, with a fast path for the plain dicts documents are made of."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_environment() -> SandboxedEnvironment:
    env = _Environment(
        undefined=StrictUndefined,
        finalize=_json_literal,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(FILTERS)
    return env


ENVIRONMENT = make_environment()


def compile_template(source: str, path: str) -> Any:
    """Compile a template's text; a syntax error names the file and line."""
    try:
        return ENVIRONMENT.from_string(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}, line {line}" if line else path
        raise DocTypeError(f"{where}: template error: {exc}") from None


def render_body(template: Any, context: Mapping[str, Any], *, name: str) -> Body:
    """Render ``template`` with ``context`` and return the pruned JSON body."""
    try:
        text = template.render(context)
    except TemplateError as exc:
        raise DocTypeError(f"{name}: template error: {exc}") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocTypeError(
            f"{name}: the template does not produce valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(body, dict):
        raise DocTypeError(f"{name}: the template must produce a JSON object")
    pruned = prune(body)
    return pruned if isinstance(pruned, dict) else {}


def prune(value: Any) -> Any:
    """Drop ``None``, ``{"value": None}`` and what becomes empty without them."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v is None:
                continue
            if isinstance(v, (dict, list)):
                v = prune(v)
                if not v:
                    continue
            out[k] = v
        return out
    if isinstance(value, list):
        items = []
        for v in value:
            if isinstance(v, (dict, list)):
                v = prune(v)
                if not v:
                    continue
            elif v is None:
                continue
            items.append(v)
        return items
    return value
