"""Passes over a template's syntax tree, made once per template or per file.

* :func:`minify`: the whitespace of the template's JSON text goes.
* :func:`specialize`: the JSON members whose holes read only columns a file
  does not have are cut, so a 16-column file does not pay for a 60-field DTO.
* :func:`encode_holes`: every output expression is wrapped in a JSON-encoding
  filter (``_hole`` for a field read, ``_json`` for the rest); a template
  where one is not is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from jinja2 import nodes

from importer.errors import DocTypeError

_ENCODING_FILTERS = ("_hole", "_json")


def encode_holes(ast: nodes.Template) -> None:
    """Wrap every output expression in a JSON-encoding filter: a plain field
    read becomes ``_hole(obj, "attr")``, anything else ``_json(expr)``."""
    for output in ast.find_all(nodes.Output):
        wrapped: list[nodes.Expr] = []
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                wrapped.append(child)
            elif isinstance(child, nodes.Getattr):
                wrapped.append(
                    nodes.Filter(
                        child.node,
                        "_hole",
                        [nodes.Const(child.attr)],
                        [],
                        None,
                        None,
                        lineno=child.lineno,
                    )
                )
            else:
                wrapped.append(
                    nodes.Filter(child, "_json", [], [], None, None, lineno=child.lineno)
                )
        output.nodes = wrapped
    for output in ast.find_all(nodes.Output):
        for child in output.nodes:
            ok = isinstance(child, nodes.TemplateData) or (
                isinstance(child, nodes.Filter) and child.name in _ENCODING_FILTERS
            )
            if not ok:  # pragma: no cover - the loop above leaves none
                raise DocTypeError(f"line {child.lineno}: an output is not JSON-encoded")


_STRING_OR_SPACE = re.compile(r'"(?:[^"\\]|\\.)*"|\s+')


def minify(ast: nodes.Template) -> None:
    """Drop the whitespace of the template's JSON text (outside strings)."""
    for data in ast.find_all(nodes.TemplateData):
        data.data = _STRING_OR_SPACE.sub(
            lambda m: m.group(0) if m.group(0)[0] == '"' else "", data.data
        )


def presence(columns: frozenset[str]) -> Callable[[str], bool]:
    prefixes: set[str] = set()
    for c in columns:
        parts = c.split(".")
        prefixes.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return prefixes.__contains__


_MEMBER_TAIL = re.compile(r'(,?)"[A-Za-z_][A-Za-z0-9_]*":(\{"value":)?$')
_EMPTY_MEMBER = re.compile(r'(,?)"[A-Za-z_][A-Za-z0-9_]*":(?:\{"value":\{\}\}|\{\}|\[\])(,?)')


def specialize(ast: nodes.Template, present: Callable[[str], bool]) -> None:
    body = ast.body
    if len(body) == 1 and isinstance(body[0], nodes.FilterBlock):
        body = body[0].body
    _walk(body, {"doc": ""}, present)
    _drop_unused_assignments(ast)


def _drop_unused_assignments(ast: nodes.Template) -> None:
    """``{% set addr = doc.billingAddress %}`` is dead once every member
    that read ``addr`` is gone; a dead one still costs a lookup a document."""
    used = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load"}
    for node in ast.find_all((nodes.Template, nodes.FilterBlock, nodes.For, nodes.If)):
        for field in ("body", "else_"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list):
                stmts[:] = [
                    st
                    for st in stmts
                    if not (
                        isinstance(st, nodes.Assign)
                        and isinstance(st.target, nodes.Name)
                        and st.target.name not in used
                    )
                ]


def _walk(stmts: list[nodes.Node], scope: dict[str, str], present: Callable[[str], bool]) -> None:
    for st in stmts:
        if isinstance(st, nodes.Assign) and isinstance(st.target, nodes.Name):
            path = _path_of(st.node, scope)
            scope = {**scope, st.target.name: path} if path is not None else scope
        elif isinstance(st, nodes.Output):
            st.nodes = _drop_absent(st.nodes, scope, present)
        elif isinstance(st, nodes.For):
            inner = dict(scope)
            path = _path_of(st.iter, scope)
            if path is not None and isinstance(st.target, nodes.Name):
                inner[st.target.name] = path
            _walk(st.body, inner, present)
            _walk(st.else_, scope, present)
        elif isinstance(st, nodes.If):
            _walk(st.body, scope, present)
            for branch in st.elif_:
                _walk(branch.body, scope, present)
            _walk(st.else_, scope, present)


def _path_of(expr: nodes.Node, scope: dict[str, str]) -> str | None:
    if isinstance(expr, nodes.Name):
        return scope.get(expr.name)
    if isinstance(expr, nodes.Getattr):
        base = _path_of(expr.node, scope)
        if base is None:
            return None
        return f"{base}.{expr.attr}" if base else expr.attr
    return None


def _refs(expr: nodes.Node, scope: dict[str, str]) -> set[str] | None:
    """The document paths an expression reads; ``None`` when it reads
    anything else (a loop variable, a global), which keeps it."""
    refs: set[str] = set()
    opaque = False

    def visit(n: nodes.Node) -> None:
        nonlocal opaque
        if isinstance(n, (nodes.Getattr, nodes.Name)):
            path = _path_of(n, scope)
            if path is not None:
                refs.add(path)
                return
            if isinstance(n, nodes.Name):
                opaque = True
                return
        for child in n.iter_child_nodes():
            visit(child)

    visit(expr)
    return None if opaque else refs


def _drop_absent(
    children: list[nodes.Expr], scope: dict[str, str], present: Callable[[str], bool]
) -> list[nodes.Expr]:
    out: list[nodes.Expr] = []
    i = 0
    while i < len(children):
        node = children[i]
        nxt = children[i + 1] if i + 1 < len(children) else None
        prev = out[-1] if out else None
        refs = None if isinstance(node, nodes.TemplateData) else _refs(node, scope)
        if (
            refs
            and not any(map(present, refs))
            and isinstance(prev, nodes.TemplateData)
            and isinstance(nxt, nodes.TemplateData)
        ):
            m = _MEMBER_TAIL.search(prev.data)
            close = "}" if m and m.group(2) else ""
            if m and nxt.data.startswith(close):
                rest = nxt.data[len(close) :]
                if rest.startswith(","):
                    prev.data = prev.data[: m.start() + len(m.group(1))]
                    nxt.data = rest[1:]
                else:
                    prev.data = prev.data[: m.start()]
                    nxt.data = rest
                i += 1
                continue
        if isinstance(node, nodes.TemplateData) and isinstance(prev, nodes.TemplateData):
            prev.data += node.data
        else:
            out.append(node)
        i += 1
    for node in out:
        if isinstance(node, nodes.TemplateData):
            node.data = _drop_empty_members(node.data)
    return out


def _drop_empty_members(text: str) -> str:
    while True:
        m = _EMPTY_MEMBER.search(text)
        if not m:
            return text
        keep = "," if m.group(1) and m.group(2) else ""
        text = text[: m.start()] + keep + text[m.end() :]
