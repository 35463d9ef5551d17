"""Render stage: a document becomes the request body of the Visma.net API.

One sandboxed Jinja environment, built here and nowhere else, with its
filters registered here. Templates are JSON text with ``{{ }}`` holes, and
every hole goes through :func:`json_literal`: a cell value always becomes one
JSON string or number, whatever it contains, so no value can open or close a
field. Empty values are omitted from the body, never sent as ``null``.

Speed comes from three things done once, not per document:

* the template's static text is minified when it is loaded, and for each
  file a variant of the template is compiled without the JSON members whose
  holes read only columns the file does not have (:mod:`importer.render.specialize`),
  so a 16-column file does not pay for a 60-field DTO; templates of the
  common shape are then compiled to plain Python (:mod:`importer.render.compile`);
* ``None`` is written as a NUL byte, which JSON escaping guarantees never
  occurs inside an encoded value, so the members left empty by a document are
  cut from the text with one anchored regular expression instead of parsing
  and re-serializing every body. Anything unusual falls back to parsing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from json.encoder import encode_basestring
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, Undefined, nodes, pass_environment
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

from importer.errors import DocTypeError
from importer.render.specialize import encode_holes, minify, presence, specialize

Body = dict[str, Any]
NUL = "\x00"

# --------------------------------------------------------- JSON literals


def _encode_float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("a number cannot be NaN or infinite in JSON")
    return float.__repr__(value)


_ENCODERS: dict[type, Callable[[Any], str]] = {
    type(None): lambda v: NUL,
    # EncodedJSON is added below, where it is defined
    str: encode_basestring,
    bool: lambda v: "true" if v else "false",
    int: int.__repr__,
    float: _encode_float,
}


def json_literal(value: Any) -> str:
    """The hole's value as one JSON literal; ``None`` as the NUL marker."""
    if type(value) is str:  # by far the most common
        return encode_basestring(value)
    encode = _ENCODERS.get(type(value))
    if encode is not None:
        return encode(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return _compact(value)


# -------------------------------------------------------------- filters


def datetime_filter(value: str | None) -> str | None:
    """``2025-01-27`` → ``2025-01-27T00:00:00``: the spec's date-time format."""
    if value is None:
        return None
    return value if "T" in value else f"{value}T00:00:00"


class EncodedJSON(str):
    """Text a filter has already encoded as JSON; holes pass it through."""

    __slots__ = ()


def segments_filter(value: Any) -> EncodedJSON | None:
    """``{"1": "00", "2": "100"}`` → ``[{"segmentId":1,"segmentValue":"00"}, ...]``."""
    if value is None:
        return None
    items = [(int(k), v) for k, v in value.items() if v is not None]
    if len(items) == 1:  # the common case: one segment
        k, v = items[0]
        return EncodedJSON(f'[{{"segmentId":{k},"segmentValue":{json_literal(v)}}}]')
    if not items:
        return None
    items.sort()
    return EncodedJSON(
        "["
        + ",".join(f'{{"segmentId":{k},"segmentValue":{json_literal(v)}}}' for k, v in items)
        + "]"
    )


_ENCODERS[EncodedJSON] = str

FILTERS: dict[str, Callable[..., Any]] = {
    "datetime": datetime_filter,
    "segments": segments_filter,
    "_body": str,  # the buffered block around every template (TypeTemplate)
}


# ------------------------------------------------------------ documents


_MISSING = object()
_LOOP_ATTRIBUTES = frozenset(
    {"first", "last", "index", "index0", "length", "revindex", "revindex0", "previtem", "nextitem"}
)


class View:
    """A document, a line or a nested object, as a template sees it.

    A view reads a row's flat values (``{"invoiceLines.quantity": 5, ...}``)
    under a prefix, so ``line.quantity`` is ``values["invoiceLines.quantity"]``
    and nothing is copied. A field the type declares but the row leaves empty
    reads as ``None`` (a nested object as an empty view); a name the type does
    not declare is an error, as everywhere in the Jinja environment.
    """

    __slots__ = ("declared", "extra", "prefix", "values")

    def __init__(
        self,
        values: Mapping[str, Any],
        prefix: str,
        declared: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.values = values
        self.prefix = prefix
        self.declared = declared
        self.extra = extra

    def lookup(self, name: str, env: SandboxedEnvironment) -> Any:
        value = self.values.get(self.prefix + name, _MISSING)
        if value is not _MISSING:
            return value
        if self.extra is not None and name in self.extra:
            return self.extra[name]
        if name not in self.declared:
            return env.undefined(obj=self, name=name)
        child = self.declared[name]
        if isinstance(child, dict):
            return View(self.values, f"{self.prefix}{name}.", child)
        return None

    def items(self) -> list[tuple[str, Any]]:
        """The filled fields under this view (a pattern family such as
        subaccount: its declared names are the file's own columns)."""
        values, prefix = self.values, self.prefix
        return [(k, values[prefix + k]) for k in self.declared if prefix + k in values]

    def __bool__(self) -> bool:
        return any(True for _ in self.items())

    def __repr__(self) -> str:
        return f"View({self.prefix!r})"


class _Environment(SandboxedEnvironment):
    """The sandboxed Jinja environment, with a fast path for the views documents are made of."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is View:  # lookup(), inlined: this runs for every hole
            value = obj.values.get(obj.prefix + attribute, _MISSING)
            return obj.lookup(attribute, self) if value is _MISSING else value
        if type(obj) is LoopContext and attribute in _LOOP_ATTRIBUTES:
            return getattr(obj, attribute)
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


@pass_environment
def _hole(env: SandboxedEnvironment, obj: Any, attribute: str) -> str:
    """``{{ line.quantity }}``: the field's value, looked up and JSON-encoded
    in one call (this runs for every field of every document)."""
    if type(obj) is View:
        value = obj.values.get(obj.prefix + attribute, _MISSING)
        if value is _MISSING:
            value = obj.lookup(attribute, env)
    else:
        value = env.getattr(obj, attribute)
    t = type(value)
    if t is str:
        return encode_basestring(value)
    if t is int:
        return int.__repr__(value)
    return json_literal(value)


def make_environment() -> SandboxedEnvironment:
    # No finalize: every output expression is wrapped in _hole or _json when a
    # template is compiled (render.specialize.encode_holes), and a template where
    # one is not is refused, so nothing reaches the output without JSON encoding.
    env = _Environment(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.filters.update({"_hole": _hole, "_json": json_literal})
    return env


ENVIRONMENT = make_environment()


# ------------------------------------------------------------ templates


class TypeTemplate:
    """A type's template, parsed once, with a compiled variant per column set."""

    def __init__(self, source: str, path: str) -> None:
        if NUL in source:
            raise DocTypeError(f"{path}: a template cannot contain NUL characters")
        self.source = source
        self.path = path
        self.full = self._compile(frozenset(), specialize=False)
        self._variants: dict[frozenset[str], Template] = {}

    def parse(self, columns: frozenset[str] | None) -> nodes.Template:
        """The template's syntax tree, minified, and specialized to
        ``columns`` unless that is ``None``."""
        try:
            # Inside a filter block Jinja appends each output run to a buffer
            # in one call instead of yielding every piece: much less per hole.
            ast = ENVIRONMENT.parse("{% filter _body %}" + self.source + "{% endfilter %}")
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{self.path}, line {line}" if line else self.path
            raise DocTypeError(f"{where}: template error: {exc}") from None
        minify(ast)
        if columns is not None:
            specialize(ast, presence(columns))
        return ast

    def _compile(self, columns: frozenset[str], *, specialize: bool) -> Template:
        ast = self.parse(columns if specialize else None)
        encode_holes(ast)
        try:
            return ENVIRONMENT.from_string(ast)
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{self.path}, line {line}" if line else self.path
            raise DocTypeError(f"{where}: template error: {exc}") from None

    def for_columns(self, columns: Iterable[str]) -> Template:
        """The template without the members that only columns absent from a
        file could fill."""
        key = frozenset(columns)
        variant = self._variants.get(key)
        if variant is None:
            variant = self._variants[key] = self._compile(key, specialize=True)
        return variant

    def render_text(self, template: Template, fields: View) -> str:
        """The body as compact JSON text, empty members removed."""
        try:
            text = template.render(doc=fields)
        except TemplateError as exc:
            raise DocTypeError(f"{self.path}: template error: {exc}") from None
        except ValueError as exc:
            raise DocTypeError(f"{self.path}: {exc}") from None
        return finish(text, self.path)


def finish(text: str, name: str) -> str:
    """Remove the members a document leaves empty; parse only when unusual."""
    if NUL in text:
        stripped = _strip_nul_members(text)
        text = stripped if stripped is not None else text
    if NUL in text or "{}" in text or "[]" in text or text[:1] != "{":
        body = parse_body(text.replace(NUL, "null"), name)
        return _compact(prune(body))
    return text


def _strip_nul_members(text: str) -> str | None:
    """Cut every ``"key":NUL`` and ``"key":{"value":NUL}`` member with one of
    its commas. Keys in templates are identifiers, and a quote inside an
    encoded value is always escaped, so the text before a NUL is the member's
    own static text. Returns ``None`` when the text is not of that form."""
    cuts: list[tuple[int, int]] = []
    i = text.find(NUL)
    while i != -1:
        if text.startswith('{"value":', i - 9) and text.startswith("}", i + 1):
            vstart, vend = i - 9, i + 2
        else:
            vstart, vend = i, i + 1
        if text[vstart - 2 : vstart] != '":':
            return None
        kstart = text.rfind('"', 0, vstart - 2)
        if kstart < 1 or not text[kstart + 1 : vstart - 2].isidentifier():
            return None
        before = text[kstart - 1]
        cut_so_far = cuts[-1][1] if cuts else 0
        if before == "," and kstart - 1 >= cut_so_far:
            cuts.append((kstart - 1, vend))  # take the comma before it
        elif before in "{[" or (before == "," and kstart - 1 < cut_so_far):
            # first member (or all before it are cut): take the comma after it
            cuts.append((kstart, vend + 1 if text.startswith(",", vend) else vend))
        else:
            return None
        i = text.find(NUL, vend)
    out = []
    pos = 0
    for start, end in cuts:
        out.append(text[pos : max(start, pos)])
        pos = max(end, pos)
    out.append(text[pos:])
    return "".join(out)


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def parse_body(text: str, name: str) -> Body:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocTypeError(
            f"{name}: the template does not produce valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(body, dict):
        raise DocTypeError(f"{name}: the template must produce a JSON object")
    return body


_DROP: Any = object()


def prune(value: Any) -> Any:
    """Drop ``None``, ``{"value": None}`` and what becomes empty without them."""
    if isinstance(value, dict):
        return {k: p for k, v in value.items() if (p := _pruned(v)) is not _DROP}
    if isinstance(value, list):
        return [p for v in value if (p := _pruned(v)) is not _DROP]
    return value


def _pruned(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        value = prune(value)
        return value if value else _DROP
    return _DROP if value is None else value
