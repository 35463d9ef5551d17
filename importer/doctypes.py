"""Document types: a schema file and a template file, found by name.

A type ``T`` is ``schemas/T.schema.json`` (JSON Schema 2020-12 for one input
row, with ``x-`` keywords for what the engine needs to know) and
``templates/T.json.j2`` (the request body). The same two files may also sit
side by side in a folder (``T.schema.json`` next to ``T.json.j2``). Folders
named with ``--types-dir`` or ``VNIMPORT_TYPES_PATH`` are searched before the
built-in types, so a user can add a type or replace one without Python.

Schema keywords vnimport reads:

``x-dto``            the request DTO in the official spec, for the tests
``x-endpoints``      ``{"create": "POST /v2/...", "update": "PUT /v1/.../{number}", ...}``
``x-document-key``   fields that identify a document, in order of preference
``x-lines``          the DTO's line array (``invoiceLines``, ``lines``); its fields
                     are named ``<x-lines>.<field>``
``x-aliases``        per field: the friendly headers that mean this field, a list
                     or by language: ``{"en": [...], "nb": [...], "sv": [...]}``
``x-code``           per field: true for a code that may start with 0 (customer,
                     item and account numbers, postal codes); by default a text
                     field named like one (``customerNumber``, ``postalCode`` ...)
``x-column``         per pattern property: the column name, ``{n}`` for the number
``x-message``        per (sub)schema: the message shown when it does not hold
``x-number``         the field that holds Visma's document number (create, GET, PUT)
``x-read-number``    the same number's name in the read DTO (``orderNbr`` for POs)
``x-find``           per key field: how to find a document again by it, as
                     ``{"query": {list filter: row field}, "match": read field}``
``x-releasable``     true when Visma has ``POST .../{number}/action/release`` for the
                     type (what ``run --release`` calls); default false
``x-etag``           true when the type's GET answers an ``ETag`` and its PUT takes
                     ``If-Match`` (412 when the document changed since); default false
``x-line-number``    the field of a request line that holds its number, which an
                     update's ``Update`` and ``Delete`` lines name; only with
                     ``x-lines``, default ``lineNumber``
``x-read-line-number`` the same number's name in the read DTO's lines (``lineNbr``
                     for POs); default ``x-line-number``
``x-bulk-find``      how the documents of a run that the journal does not know are
                     looked up in Visma before any is created: the list is paged
                     through once, narrowed by ``param`` (a date query of the list)
                     from the earliest ``field`` (a header date) of the batch;
                     ``{}``: the whole list; absent: no such lookup
``x-natural-key``    for a type whose rows may lack the document's number (customers,
                     suppliers): the fields that name a document in its place, in
                     order of preference, each with the list query that finds it
                     (``[{"fields": ["corporateId"], "query": "corporateId"}, ...]``);
                     a row without number and without any of them is an error
``x-carry-key``      a header field Visma can be searched by (``externalReference``)
                     that carries the document's key when the file groups it by a
                     key Visma knows nothing of (a ``Document ID``) and leaves the
                     field empty, so the document can be found again; default none
``x-control``        per number field: a total checked against other fields (a line
                     total against quantity x price less discount, a document total
                     against its lines); see :mod:`importer.checks`
``x-cross-check``    per text field: the header field it names in words, never sent
                     (``customerName`` beside ``customerNumber``): ``DocType.cross_checks``
``x-reference``      per text field (or pattern property of subaccount segments): the
                     company's list in Visma it names a record of (``"customer"``,
                     ``"inventory"``, ``"vat"`` ...), or the financial period it says
                     and the ledger it must be open in: ``DocType.references``, checked
                     by :mod:`importer.company_checks`; see :mod:`importer.checks`
``x-enum-aliases``   per enum field: the words in other languages for each of Visma's
                     values (``{"nb": {"Aktiv": "Active"}}``): ``DocType.enum_value``
``x-checks``         rules between fields: a date not before another, a number not
                     negative, e-mail addresses (one, or several); see :mod:`importer.checks`
``x-undo``           how a document the run created or updated is taken back out of
                     Visma, by its status (delete, reverse, void, inactivate, restore),
                     and what to do by hand when the API cannot; see :mod:`importer.undo.rules`
``x-reconcile``      how ``vnimport reconcile`` reads a document back and compares it with
                     the request: read names that differ, fields Visma never shows, the
                     line amount, total and party; see :mod:`importer.reconciliation.compare`

A misspelt keyword would silently mean its default (no ``If-Match``, no
release, no check), so an ``x-`` keyword, of the schema or of one of its
fields, that is close to one of these names but is not one stops the type at
load.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.checks import Declared, Reference, read_declared
from importer.errors import DocTypeError
from importer.render.compile import Unsupported, compile_renderer
from importer.render.engine import TypeTemplate, View, finish, parse_body
from importer.settings import types_path
from importer.undo.rules import undo_rules

Renderer = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], str]

_PACKAGE_DIR = Path(__file__).resolve().parent
_SCALAR_TYPES = {"string", "number", "integer", "boolean"}


def normalize_header(text: str) -> str:
    """Header text compared ignoring case, spaces and punctuation."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One input column of a type: its canonical name and how to read it."""

    name: str  # canonical: the DTO path, e.g. "invoiceLines.quantity"
    kind: str  # string | number | integer | boolean | date
    title: str
    aliases: tuple[str, ...]
    is_line: bool
    required: bool = False
    code: bool = False  # a code that may start with 0 (x-code)
    description: str = ""  # the schema's description: what the column is for


@dataclass(frozen=True, slots=True)
class PatternField:
    """A family of columns such as ``invoiceLines.subaccount.{n}``."""

    column: str  # "invoiceLines.subaccount.{n}"
    kind: str
    title: str
    aliases: tuple[str, ...]
    is_line: bool
    matchers: tuple[re.Pattern[str], ...]
    code: bool = False

    def match(self, normalized: str) -> str | None:
        for rx in self.matchers:
            m = rx.fullmatch(normalized)
            if m:
                return self.column.replace("{n}", str(int(m.group(1))))
        return None


@dataclass(slots=True)
class DocType:
    name: str
    title: str
    schema: dict[str, Any]
    schema_path: Path
    template_path: Path
    template: TypeTemplate
    fields: dict[str, FieldSpec]
    patterns: list[PatternField]
    key_fields: list[str]
    lines: str | None
    endpoints: dict[str, str]
    releasable: bool = False  # x-releasable: Visma has action/release for it
    etag: bool = False  # x-etag: GET answers an ETag, PUT takes If-Match
    line_number: str = ""  # x-line-number: a request line's number field; "" without lines
    read_line_number: str = ""  # x-read-line-number: the same in the read DTO's lines
    carry_key: str = ""  # x-carry-key: the searchable field that carries a Document ID key
    # x-natural-key: (fields, list query) that name a document without its number
    natural_keys: tuple[tuple[tuple[str, ...], str], ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # normalized header → canonical
    # x-control, x-checks, x-enum-aliases, x-cross-check, x-reference (importer.checks)
    declared: Declared = field(default_factory=Declared)
    _skeleton_cache: dict[frozenset[str], tuple[dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict
    )
    _renderers: dict[frozenset[str], Renderer] = field(default_factory=dict)
    compiled: bool = True  # the template runs as compiled Python (importer.render.compile)

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]

    @property
    def cross_checks(self) -> Mapping[str, str]:
        """Fields never sent that name a header field in words (x-cross-check):
        ``{"customerName": "customerNumber"}``, to compare with Visma's name."""
        return self.declared.cross_checks

    @property
    def references(self) -> tuple[Reference, ...]:
        """The fields that name a record of one of the company's lists in
        Visma (x-reference): what :mod:`importer.company_checks` checks."""
        return self.declared.references

    def enum_value(self, name: str, value: Any) -> Any:
        """Visma's word for ``value`` in field ``name`` (x-enum-aliases; case,
        spaces and punctuation ignored: ``aktiv``, ``On hold``), else ``value``."""
        words = self.declared.enum_words.get(name)
        if words is None or not isinstance(value, str) or value in words.values():
            return value
        return words.get(normalize_header(value), value)

    def resolve_header(self, header: str) -> str | None:
        """The canonical field a header means, or ``None``."""
        n = normalize_header(header)
        if not n:
            return None
        hit = self.aliases.get(n)
        if hit is not None:
            return hit
        for p in self.patterns:
            name = p.match(n)
            if name is not None:
                return name
        return None

    def looks_like_header(self, cells: list[str]) -> bool:
        """A row that names at least two of the type's columns, and mostly
        columns of the type: a header, not a title row above it."""
        filled = [c for c in cells if c]
        known = sum(1 for c in filled if self.resolve_header(c) is not None)
        return known >= 2 and known * 2 >= len(filled)

    def spec_for(self, canonical: str) -> FieldSpec | PatternField | None:
        spec = self.fields.get(canonical)
        if spec is not None:
            return spec
        n = normalize_header(canonical)
        return next((p for p in self.patterns if p.match(n) is not None), None)

    def is_line_field(self, canonical: str) -> bool:
        return self.lines is not None and canonical.startswith(self.lines + ".")

    def view(
        self,
        header: Mapping[str, Any],
        lines: Sequence[Mapping[str, Any]],
        columns: Iterable[str] = (),
    ) -> View:
        """The document as its template sees it, read in place from the rows'
        flat values: ``doc.customerNumber``, ``doc.billingAddress.city``,
        ``doc.invoiceLines`` (one view per line row). ``columns`` are the
        file's own, which name the members of pattern families (segments)."""
        head, line = self.skeletons(frozenset(columns))
        extra = None
        if self.lines is not None:
            prefix = self.lines + "."
            extra = {self.lines: [View(v, prefix, line) for v in lines]}
        return View(header, "", head, extra)

    def renderer(self, columns: frozenset[str]) -> Renderer:
        """``render(header values, line values) -> body text`` for files with
        these columns: the compiled template when it has the common shape
        (and agreed with the Jinja environment at start-up), else Jinja."""
        render = self._renderers.get(columns)
        if render is None:
            render = self._renderers[columns] = self._make_renderer(columns)
        return render

    def _make_renderer(self, columns: frozenset[str]) -> Renderer:
        template, name = self.template, str(self.template_path)
        if self.compiled:
            head, line = self.skeletons(columns)
            try:
                fast = compile_renderer(template.parse(columns), self.lines, head, line)
            except Unsupported:
                fast = None
            if fast is not None:
                compiled = fast

                def render_compiled(
                    header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
                ) -> str:
                    return finish("".join(compiled(header, lines)), name)

                render_compiled.engine = "compiled"  # type: ignore[attr-defined]
                return render_compiled
        jinja = template.for_columns(columns)

        def render_jinja(header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> str:
            return template.render_text(jinja, self.view(header, lines, columns))

        render_jinja.engine = "jinja"  # type: ignore[attr-defined]
        return render_jinja

    def skeletons(self, columns: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The declared fields, with a file's pattern columns (``subaccount.1``)
        added as fields of their own."""
        cached = self._skeleton_cache.get(columns)
        if cached is None:
            names = [*self.fields, *(p.column for p in self.patterns)]
            names += [c for c in columns if c not in self.fields]
            prefix = f"{self.lines}." if self.lines else None
            head = _skeleton((n for n in names if not (prefix and n.startswith(prefix))), "")
            line = _skeleton((n for n in names if prefix and n.startswith(prefix)), prefix or "")
            cached = self._skeleton_cache[columns] = (head, line)
        return cached

    def endpoint(self, action: str) -> tuple[str, str]:
        method, _, path = self.endpoints[action].partition(" ")
        return method, path


# ---------------------------------------------------------------- search


def builtin_dirs() -> list[Path]:
    """Where the shipped types live: inside an installed wheel, or the checkout."""
    bundled = _PACKAGE_DIR / "_types"
    if (bundled / "schemas").is_dir():
        return [bundled]
    return [_PACKAGE_DIR.parent]


def search_path(extra: Sequence[str | Path] = ()) -> list[Path]:
    return [Path(d) for d in extra] + types_path() + builtin_dirs()


def _candidates(d: Path, name: str) -> tuple[Path, Path]:
    nested = (d / "schemas" / f"{name}.schema.json", d / "templates" / f"{name}.json.j2")
    if nested[0].exists():
        return nested
    return d / f"{name}.schema.json", d / f"{name}.json.j2"


def type_names(extra: Sequence[str | Path] = ()) -> list[str]:
    names: set[str] = set()
    for d in search_path(extra):
        for folder in (d / "schemas", d):
            if folder.is_dir():
                names.update(p.name[: -len(".schema.json")] for p in folder.glob("*.schema.json"))
    return sorted(names)


def samples_dir() -> Path:
    return builtin_dirs()[0] / "samples"


class Registry:
    """Loads and caches document types from a search path."""

    def __init__(self, extra_dirs: Sequence[str | Path] = ()) -> None:
        self.dirs = search_path(extra_dirs)
        self._cache: dict[str, DocType] = {}

    def names(self) -> list[str]:
        return type_names([d for d in self.dirs])

    def get(self, name: str) -> DocType:
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def _load(self, name: str) -> DocType:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise DocTypeError(f"{name!r} is not a document type name{self._closest(name)}")
        for d in self.dirs:
            schema_path, template_path = _candidates(d, name)
            if schema_path.exists():
                if not template_path.exists():
                    raise DocTypeError(f"{schema_path}: no template {template_path.name} beside it")
                return load_doctype(name, schema_path, template_path)
        known = ", ".join(self.names()) or "none"
        raise DocTypeError(
            f"unknown document type {name!r}{self._closest(name)}; the types are: {known}"
        )

    def _closest(self, name: str) -> str:
        """``" (did you mean 'customer_invoice'?)"`` for a near miss, else ``""``."""
        wanted = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        names = self.names()
        plain = {n.replace("_", ""): n for n in names}
        found = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6) or [
            plain[m] for m in difflib.get_close_matches(wanted.replace("_", ""), list(plain), n=1)
        ]
        return f" (did you mean {found[0]!r}?)" if found and found[0] != name else ""


def load_type(name: str, *, types_dirs: Sequence[str | Path] = ()) -> DocType:
    """The document type ``name``: its schema and template, checked. Folders
    in ``types_dirs`` (and ``VNIMPORT_TYPES_PATH``) are searched before the
    built-in types. Raises :class:`DocTypeError`, with the closest name when
    there is no such type."""
    return Registry(types_dirs).get(name)


def load_doctype(name: str, schema_path: Path, template_path: Path) -> DocType:
    """Read, check and compile one type. Every problem is a :class:`DocTypeError`."""
    schema = _read_schema(schema_path)
    _check_meta(schema, schema_path)
    lines = schema.get("x-lines")
    fields: dict[str, FieldSpec] = {}
    required = set(schema.get("required", []))
    for fname, prop in schema.get("properties", {}).items():
        fields[fname] = FieldSpec(
            name=fname,
            kind=_kind(prop, schema_path, fname),
            title=str(prop.get("title", fname)),
            aliases=_aliases(prop, schema_path, fname),
            is_line=bool(lines) and fname.startswith(f"{lines}."),
            required=fname in required,
            code=_is_code(prop, fname),
            description=str(prop.get("description", "")),
        )
    patterns = []
    for rx, prop in schema.get("patternProperties", {}).items():
        column = prop.get("x-column")
        if not column or "{n}" not in column:
            raise DocTypeError(
                f"{schema_path}: pattern property {rx!r} needs an x-column with {{n}}"
            )
        aliases = _aliases(prop, schema_path, rx)
        names = [column, *aliases]
        patterns.append(
            PatternField(
                column=column,
                kind=_kind(prop, schema_path, rx),
                title=str(prop.get("title", column)),
                aliases=aliases,
                is_line=bool(lines) and column.startswith(f"{lines}."),
                matchers=tuple(_pattern_matcher(a) for a in names),
                code=_is_code(prop, column.replace(".{n}", "")),
            )
        )
    key_fields = list(schema.get("x-document-key", []))
    for k in key_fields:
        if k not in fields:
            raise DocTypeError(
                f"{schema_path}: x-document-key names {k!r}, which is not a property"
            )
    endpoints = schema.get("x-endpoints", {})
    if "create" not in endpoints:
        raise DocTypeError(f"{schema_path}: x-endpoints needs a 'create' entry")
    # The per-type facts of Visma's API, read here and nowhere else (their
    # types were checked by _check_meta).
    line_number = str(schema.get("x-line-number", "lineNumber")) if lines else ""
    doctype = DocType(
        name=name,
        title=str(schema.get("title", name)),
        schema=schema,
        schema_path=schema_path,
        template_path=template_path,
        template=TypeTemplate(template_path.read_text(encoding="utf-8"), str(template_path)),
        fields=fields,
        patterns=patterns,
        key_fields=key_fields,
        lines=lines,
        endpoints=dict(endpoints),
        releasable=schema.get("x-releasable", False),
        etag=schema.get("x-etag", False),
        line_number=line_number,
        read_line_number=str(schema.get("x-read-line-number", line_number)) if lines else "",
        carry_key=str(schema.get("x-carry-key", "")),
        natural_keys=tuple(
            (tuple(alt["fields"]), str(alt["query"])) for alt in schema.get("x-natural-key", [])
        ),
    )
    doctype.aliases = _alias_index(doctype)
    doctype.declared = read_declared(schema, schema_path, lines, normalize_header)
    _check_template(doctype)
    return doctype


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DocTypeError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(schema, dict):
        raise DocTypeError(f"{path}: a schema must be a JSON object")
    return schema


_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _check_meta(schema: dict[str, Any], path: Path) -> None:
    """The schema is JSON Schema 2020-12 (whatever its ``$schema`` says), with
    Python regular expressions. jsonschema-rs checks a valid schema in a
    millisecond; only one that it or ``re`` rejects is checked again by the
    ``jsonschema`` package (60 ms to import, 20 ms to check), whose message
    says where the schema is wrong."""
    if not _valid_fast(schema):
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise DocTypeError(
                f"{path}: not a valid JSON Schema at {where}: {exc.message}"
            ) from None
    if schema.get("type") != "object":
        raise DocTypeError(f'{path}: a row schema must have "type": "object"')
    _check_keywords(schema, path)


# Every keyword the module docstring documents; a top-level x- keyword close to
# one of these but not one is a typo (see _check_keywords).
_KEYWORDS = frozenset(
    {
        "x-total-row",
        "x-dto",
        "x-endpoints",
        "x-document-key",
        "x-lines",
        "x-aliases",
        "x-code",
        "x-column",
        "x-message",
        "x-number",
        "x-read-number",
        "x-find",
        "x-releasable",
        "x-etag",
        "x-line-number",
        "x-read-line-number",
        "x-carry-key",
        "x-bulk-find",
        "x-natural-key",
        "x-control",
        "x-cross-check",
        "x-reference",
        "x-enum-aliases",
        "x-checks",
        "x-reconcile",
        "x-undo",
    }
)
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_keywords(schema: dict[str, Any], path: Path) -> None:
    """The per-type facts have the right types, and no fact is misspelt."""
    fields = [*schema.get("properties", {}).items(), *schema.get("patternProperties", {}).items()]
    for where, node in [("", schema), *((f" of {name!r}", prop) for name, prop in fields)]:
        for key in node if isinstance(node, dict) else ():
            if key.startswith("x-") and key not in _KEYWORDS:
                near = difflib.get_close_matches(key, _KEYWORDS, n=1, cutoff=0.8)
                if near:
                    raise DocTypeError(
                        f"{path}: unknown keyword {key!r}{where}; did you mean {near[0]!r}?"
                    )
    total = schema.get("x-total-row")
    if total is not None and (
        not isinstance(total, dict)
        or set(total) != {"labels"}
        or not isinstance(total["labels"], list)
        or not all(isinstance(x, str) and x.strip() for x in total["labels"])
    ):
        raise DocTypeError(
            f'{path}: x-total-row must be {{"labels": ["Total", "Sum", ...]}}, '
            f"not {json.dumps(total)}"
        )
    undo_rules(schema, path)  # x-undo, checked (importer.undo.rules)
    for key in ("x-releasable", "x-etag"):
        value = schema.get(key, False)
        if not isinstance(value, bool):
            raise DocTypeError(f"{path}: {key} must be true or false, not {json.dumps(value)}")
    bulk = schema.get("x-bulk-find")
    if bulk is not None and (
        not isinstance(bulk, dict)
        or set(bulk) - {"param", "field"}
        or ("param" in bulk) != ("field" in bulk)
        or ("field" in bulk and bulk["field"] not in schema.get("properties", {}))
    ):
        raise DocTypeError(
            f'{path}: x-bulk-find must be {{}} or {{"param": <a list query>, "field": '
            f"<a header date field>}}, not {json.dumps(bulk)}"
        )
    natural = schema.get("x-natural-key", [])
    props = schema.get("properties", {})
    if not isinstance(natural, list) or not all(
        isinstance(alt, dict)
        and isinstance(alt.get("fields"), list)
        and alt["fields"]
        and all(f in props for f in alt["fields"])
        and isinstance(alt.get("query"), str)
        for alt in natural
    ):
        raise DocTypeError(
            f'{path}: x-natural-key must be a list of {{"fields": [<header fields>], '
            f'"query": <a list query>}}, not {json.dumps(natural)}'
        )
    carry = schema.get("x-carry-key")
    if carry is not None and (
        not isinstance(carry, str) or carry not in schema.get("properties", {})
    ):
        raise DocTypeError(
            f"{path}: x-carry-key must name a header field of the schema, not {json.dumps(carry)}"
        )
    if carry and carry not in schema.get("x-find", {}):
        raise DocTypeError(f"{path}: x-carry-key {carry!r} needs an x-find entry to look it up by")
    for key in ("x-line-number", "x-read-line-number"):
        if key not in schema:
            continue
        value = schema[key]
        if not isinstance(value, str) or not _FIELD_NAME.fullmatch(value):
            raise DocTypeError(
                f"{path}: {key} must be the name of a line field such as "
                f'"lineNumber", not {json.dumps(value)}'
            )
        if not schema.get("x-lines"):
            raise DocTypeError(f"{path}: {key} is given, but the type has no x-lines")


def _valid_fast(schema: dict[str, Any]) -> bool:
    """True when jsonschema-rs finds the schema valid 2020-12 and ``re``
    compiles its patterns; False when either does not (or cannot say)."""
    import jsonschema_rs

    try:
        valid = jsonschema_rs.meta.is_valid({**schema, "$schema": _DRAFT_2020_12})
    except Exception:  # something it cannot take: the full check decides
        return False
    return bool(valid) and _patterns_compile(schema)


def _patterns_compile(node: Any) -> bool:
    """Every ``pattern`` and ``patternProperties`` key under ``node`` is a
    Python regular expression, as the ``jsonschema`` package's check of the
    "regex" format wants (jsonschema-rs's meta check does not look at them).
    False also for what only looks like one: the full check decides then."""
    if isinstance(node, list):
        return all(_patterns_compile(x) for x in node)
    if not isinstance(node, dict):
        return True
    found = [node["pattern"]] if "pattern" in node else []
    props = node.get("patternProperties")
    if isinstance(props, dict):
        found += props
    for rx in found:
        try:
            re.compile(rx)
        except (re.error, TypeError):
            return False
    return all(_patterns_compile(v) for v in node.values())


def _kind(prop: dict[str, Any], path: Path, name: str) -> str:
    t = prop.get("type", "string")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t not in _SCALAR_TYPES:
        raise DocTypeError(f"{path}: field {name!r} has type {t!r}; a column holds one value")
    if t == "string" and prop.get("format") == "date":
        return "date"
    return str(t)


_CODE_NAME = re.compile(
    r"(?i)(number|nbr|no|account|subaccount|sub|postalcode|reference|ref|corporateid|"
    r"vatregistrationid|gln|inventory|supplier|customer|project|branch|documentid|alternateid)$"
)


def _is_code(prop: dict[str, Any], name: str) -> bool:
    """A text field holding a code that may start with 0: ``x-code``, else
    judged by the field's name."""
    if "x-code" in prop:
        return bool(prop["x-code"])
    if prop.get("type", "string") != "string" or "format" in prop or "enum" in prop:
        return False
    return bool(_CODE_NAME.search(name.rsplit(".", 1)[-1]))


def _aliases(prop: dict[str, Any], path: Path, name: str) -> tuple[str, ...]:
    """A field's header aliases, from a list or from lists by language."""
    given = prop.get("x-aliases", [])
    groups = given.values() if isinstance(given, dict) else [given]
    found: list[str] = []
    for group in groups:
        if not isinstance(group, list) or not all(isinstance(a, str) for a in group):
            raise DocTypeError(
                f"{path}: x-aliases of {name!r} must be a list of texts, or such lists by language"
            )
        found.extend(group)
    return tuple(dict.fromkeys(found))  # a word two languages share, once


def _pattern_matcher(alias: str) -> re.Pattern[str]:
    head, _, tail = alias.partition("{n}")
    return re.compile(
        re.escape(normalize_header(head)) + r"0*([0-9]{1,3})" + re.escape(normalize_header(tail))
    )


def _alias_index(doctype: DocType) -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in doctype.fields.values():
        for text in (spec.name, *spec.aliases):
            n = normalize_header(text)
            other = index.setdefault(n, spec.name)
            if other != spec.name:
                raise DocTypeError(
                    f"{doctype.schema_path}: the header {text!r} would mean both "
                    f"{other!r} and {spec.name!r}"
                )
    return index


def _sample_value(kind: str) -> Any:
    return {"string": "x", "number": 1.5, "integer": 1, "boolean": True, "date": "2025-01-31"}[kind]


def _check_template(doctype: DocType) -> None:
    """Render once empty and once with every field filled (two lines), so a
    template error stops the run at start-up, before any row; and use the
    compiled template only if it gives the Jinja output exactly."""
    columns = [(f.name, f.kind) for f in doctype.fields.values()]
    columns += [(p.column.replace("{n}", "1"), p.kind) for p in doctype.patterns]
    every = frozenset(name for name, _ in columns)
    for filled in (False, True):
        header: dict[str, Any] = {}
        line: dict[str, Any] = {}
        for name, kind in columns:
            if filled:
                target = line if doctype.is_line_field(name) else header
                target[name] = _sample_value(kind)
        lines = [line, line] if doctype.lines else []
        view = doctype.view(header, lines, every)
        text = doctype.template.render_text(doctype.template.full, view)
        parse_body(text, str(doctype.template_path))
        render = doctype.renderer(every)
        if getattr(render, "engine", "") == "compiled" and render(header, lines) != text:
            doctype.compiled = False  # a compiler bug must not change a body: use Jinja
            doctype._renderers.clear()


def _skeleton(names: Iterable[str], strip: str) -> dict[str, Any]:
    """Nested dict with a ``None`` leaf for every field, so that a template can
    name any field of the type whether or not the file has its column."""
    root: dict[str, Any] = {}
    for name in names:
        parts = name[len(strip) :].split(".") if strip else name.split(".")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts[-1] != "{n}":
            node.setdefault(parts[-1], None)
    return root
