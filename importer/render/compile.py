"""Templates in the common shape, compiled to straight-line Python.

A document type's template is Jinja, parsed by the one environment in
:mod:`importer.render.engine`. Most templates only write JSON text with field holes,
``{% set %}`` aliases, our filters, conditional expressions and one loop over
the lines. That shape is compiled here, from Jinja's own syntax tree, into a
Python function that reads the rows' flat values directly
(``values.get("invoiceLines.quantity")``): the same output as the Jinja environment
gives, several times faster, because no template context, loop object or
attribute proxy is made per document.

Anything outside the shape raises :class:`Unsupported` and the template runs
in the Jinja environment instead. Every hole goes through ``json_literal``, exactly as
in the Jinja environment, and :mod:`importer.doctypes` renders sample documents with
both engines at start-up and uses this one only when they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from jinja2 import nodes

from importer.render.engine import FILTERS, View, json_literal

Renderer = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], list[str]]

_COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">="}
_LOOP = {
    "last": "(_i == _n - 1)",
    "first": "(_i == 0)",
    "index": "(_i + 1)",
    "index0": "_i",
    "length": "_n",
    "revindex": "(_n - _i)",
    "revindex0": "(_n - _i - 1)",
}
_CONSTANTS = (type(None), bool, int, float, str)
_ITEMS_FILTERS = frozenset({"segments"})  # filters that only read .items(), skipping None


class Unsupported(Exception):
    """The template uses something this compiler does not handle."""


class _Compiler:
    def __init__(self, lines: str | None, head: Mapping[str, Any], line: Mapping[str, Any]):
        self.lines = lines
        self.declared = {"H": head, "L": line}
        self.code: list[str] = []
        self.in_loop = False

    # ------------------------------------------------------ statements

    def statements(
        self, stmts: list[nodes.Node], scope: dict[str, tuple[str, str]], depth: int
    ) -> None:
        pad = "    " * depth
        for st in stmts:
            if isinstance(st, nodes.Output):
                pieces = [
                    repr(child.data)
                    if isinstance(child, nodes.TemplateData)
                    # strings (most values) are encoded inline, the rest by json_literal
                    else f"(_es(_v) if (_v := {self.expr(child, scope)}).__class__ is str "
                    "else _enc(_v))"
                    for child in st.nodes
                ]
                if pieces:
                    self.code.append(f"{pad}_x(({', '.join(pieces)},))")
            elif isinstance(st, nodes.Assign):
                if not isinstance(st.target, nodes.Name):
                    raise Unsupported("assignment to something other than a name")
                scope = {**scope, st.target.name: self.path(st.node, scope)}
            elif isinstance(st, nodes.For):
                self.loop(st, scope, depth)
            elif isinstance(st, nodes.If):
                self.code.append(f"{pad}if {self.expr(st.test, scope)}:")
                self.block(st.body, scope, depth + 1)
                for branch in st.elif_:
                    self.code.append(f"{pad}elif {self.expr(branch.test, scope)}:")
                    self.block(branch.body, scope, depth + 1)
                if st.else_:
                    self.code.append(f"{pad}else:")
                    self.block(st.else_, scope, depth + 1)
            else:
                raise Unsupported(type(st).__name__)

    def block(self, stmts: list[nodes.Node], scope: dict[str, tuple[str, str]], depth: int) -> None:
        start = len(self.code)
        self.statements(stmts, scope, depth)
        if len(self.code) == start:
            self.code.append("    " * depth + "pass")

    def loop(self, st: nodes.For, scope: dict[str, tuple[str, str]], depth: int) -> None:
        if (
            self.in_loop
            or st.else_
            or st.test is not None
            or st.recursive
            or not isinstance(st.target, nodes.Name)
        ):
            raise Unsupported("only a plain loop over the lines")
        if self.path(st.iter, scope) != ("H", self.lines or "\0"):
            raise Unsupported("a loop over something other than the lines")
        pad = "    " * depth
        self.code.append(f"{pad}_n = len(_lines)")
        self.code.append(f"{pad}for _i, L in enumerate(_lines):")
        self.in_loop = True
        self.block(st.body, {**scope, st.target.name: ("L", f"{self.lines}.")}, depth + 1)
        self.in_loop = False

    # ----------------------------------------------------- expressions

    def path(self, node: nodes.Node, scope: dict[str, tuple[str, str]]) -> tuple[str, str]:
        """``doc.billingAddress`` → ``("H", "billingAddress")``: which values
        (header or line) and the canonical path in them."""
        if isinstance(node, nodes.Name) and node.name in scope:
            return scope[node.name]
        if isinstance(node, nodes.Getattr):
            source, base = self.path(node.node, scope)
            if base.endswith("."):
                return source, base + node.attr
            return source, f"{base}.{node.attr}" if base else node.attr
        raise Unsupported("a value that is not a document field")

    def lookup_declared(self, source: str, path: str) -> Any:
        """The declared node at ``path`` (``None`` for a field, a dict for an
        object), or raise: an undeclared name is the Jinja environment's error to give."""
        node: Any = self.declared[source]
        rel = path[len(self.lines) + 1 :] if source == "L" and self.lines else path
        for part in rel.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise Unsupported(f"{path!r} is not a field of the type")
            node = node[part]
        return node

    def filter_arg(self, name: str, node: nodes.Node, scope: dict[str, tuple[str, str]]) -> str:
        """A family of fields (``line.subaccount``) given to a filter that only
        reads its items goes as a small dict literal, not a view object."""
        if name in _ITEMS_FILTERS and isinstance(node, (nodes.Name, nodes.Getattr)):
            try:
                source, path = self.path(node, scope)
            except Unsupported:
                return self.expr(node, scope)
            kind = self.lookup_declared(source, path)
            if isinstance(kind, Mapping) and not any(isinstance(v, Mapping) for v in kind.values()):
                items = ", ".join(f"{k!r}: {source}.get({f'{path}.{k}'!r})" for k in kind)
                return "{" + items + "}"
        return self.expr(node, scope)

    def expr(self, node: nodes.Node, scope: dict[str, tuple[str, str]]) -> str:
        if isinstance(node, nodes.Const):
            if not isinstance(node.value, _CONSTANTS):
                raise Unsupported("a constant of another type")
            return repr(node.value)
        if (
            isinstance(node, nodes.Getattr)
            and isinstance(node.node, nodes.Name)
            and node.node.name == "loop"
        ):
            if not self.in_loop or node.attr not in _LOOP:
                raise Unsupported("loop." + node.attr)
            return _LOOP[node.attr]
        if isinstance(node, (nodes.Name, nodes.Getattr)):
            source, path = self.path(node, scope)
            kind = self.lookup_declared(source, path)
            if isinstance(kind, Mapping):  # an object: a view, as the Jinja environment gives
                return f"_View({source}, {path + '.'!r}, _d{source}[{path!r}])"
            return f"{source}.get({path!r})"
        if isinstance(node, nodes.Filter):
            if (
                node.name not in FILTERS
                or node.name.startswith("_")
                or node.kwargs
                or node.dyn_args
                or node.dyn_kwargs
                or node.node is None
            ):
                raise Unsupported(f"filter {node.name}")
            args = ", ".join(self.filter_arg(node.name, a, scope) for a in [node.node, *node.args])
            return f"_F[{node.name!r}]({args})"
        if isinstance(node, nodes.CondExpr):
            if node.expr2 is None:  # the Jinja environment's undefined: its error to give
                raise Unsupported("a conditional expression without else")
            return (
                f"({self.expr(node.expr1, scope)} if {self.expr(node.test, scope)} "
                f"else {self.expr(node.expr2, scope)})"
            )
        if isinstance(node, (nodes.Or, nodes.And)):
            op = "or" if isinstance(node, nodes.Or) else "and"
            return f"({self.expr(node.left, scope)} {op} {self.expr(node.right, scope)})"
        if isinstance(node, nodes.Not):
            return f"(not {self.expr(node.node, scope)})"
        if isinstance(node, nodes.Test) and node.name == "none" and not node.args:
            return f"({self.expr(node.node, scope)} is None)"
        if isinstance(node, nodes.Compare) and len(node.ops) == 1 and node.ops[0].op in _COMPARE:
            operand = node.ops[0]
            right = self.expr(operand.expr, scope)
            return f"({self.expr(node.expr, scope)} {_COMPARE[operand.op]} {right})"
        raise Unsupported(type(node).__name__)


def compile_renderer(
    ast: nodes.Template,
    lines: str | None,
    head: Mapping[str, Any],
    line: Mapping[str, Any],
) -> Renderer:
    """A function ``(header values, line values) -> output pieces`` for a
    minified, specialized template; raises :class:`Unsupported`."""
    body = ast.body
    if (
        len(body) == 1 and isinstance(body[0], nodes.FilterBlock) and body[0].filter.name == "_body"
    ):  # the Jinja environment's buffering wrapper
        body = body[0].body
    compiler = _Compiler(lines, head, line)
    compiler.statements(body, {"doc": ("H", "")}, 1)
    source = "\n".join(
        [
            "def render(H, _lines):",
            "    _out = []",
            "    _x = _out.extend",
            *compiler.code,
            "    return _out",
        ]
    )
    namespace: dict[str, Any] = {
        "_enc": json_literal,
        "_es": encode_basestring,
        "_F": FILTERS,
        "_View": View,
        "_dH": _declared_index(head, ""),
        "_dL": _declared_index(line, f"{lines}." if lines else ""),
    }
    exec(compile(source, "<vnimport template>", "exec"), namespace)
    render: Renderer = namespace["render"]
    return render


def _declared_index(root: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Every object path under ``root`` → its declared children."""
    index: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], path: str) -> None:
        for name, child in node.items():
            if isinstance(child, Mapping):
                full = f"{path}{name}"
                index[full] = child
                walk(child, full + ".")

    walk(root, prefix)
    return index
