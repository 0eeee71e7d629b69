"""Walk one module's AST and collect its nodes, local edges, references and symbols.

The walk has two phases because Python binds names flow-insensitively: a function may
call another that is defined further down. Phase one visits every statement, creating a
``Node`` per module/class/function/method, the ``DEFINES``/``CONTAINS`` edges between
them, and scope bindings; calls, base classes and constructor assignments are only
*recorded*. Phase two (``finish``) turns the recorded names into candidates with the
now complete scopes (see ``caramba.codegraph.scope``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from caramba.codegraph.astfields import CHILD_FIELDS, child_fields
from caramba.codegraph.facts import (
    CALLS, CLASS, CONTAINS, DEFINES, FUNCTION, IMPORTS, INHERITS, METHOD, MODULE,
    REGISTERS, TYPENAME, Node, RefTuple, Symbols,
)
from caramba.codegraph.naming import absolute_import
from caramba.codegraph.registrations import Registration, registration
from caramba.codegraph.scope import Candidates, Scope
from caramba.codegraph.source import SourceText, dotted

_RANK = {MODULE: 0, CLASS: 1, FUNCTION: 2, METHOD: 2}


class Extractor:
    """Collects the facts of one module; call ``run`` once, then read the attributes."""

    def __init__(self, path: str, module: str, package: bool, text: SourceText) -> None:
        """Prepare to walk ``path`` (named ``module``; ``package`` if an ``__init__``)."""
        self.path = path
        self.module = module
        self.package = package
        self.text = text
        self.nodes: list[Node] = []
        self.edges: list[tuple[str, str, str, str, str]] = []
        self.refs: list[RefTuple] = []
        self.symbols = Symbols()
        self._seen: dict[str, int] = {}
        self._calls: list[tuple[Scope, list[str], bool, str, int]] = []
        self._bases: list[tuple[Scope, str, str, list[ast.expr]]] = []
        self._types: list[tuple[Scope, str, list[str]]] = []
        self._attr_types: list[tuple[str, Scope, list[str]]] = []
        self._aliases: list[tuple[Scope, str, list[str]]] = []
        self._configs: list[tuple[Scope, str, ast.expr, int]] = []
        self._handlers: dict[type, Callable[[Any, Scope], bool]] = {
            ast.FunctionDef: self._visit_function,
            ast.AsyncFunctionDef: self._visit_function, ast.ClassDef: self._visit_class,
            ast.Import: self._visit_import, ast.ImportFrom: self._visit_import_from,
            ast.Call: self._visit_call, ast.Assign: self._visit_assign, ast.AnnAssign: self._visit_assign,
        }

    def run(self, tree: ast.Module) -> None:
        """Walk ``tree`` and fill ``nodes``, ``edges``, ``refs`` and ``symbols``."""
        name = self.module.rpartition(".")[2] or self.module
        props = self._props(name, self.module, 1, max(self.text.line_count, 1), "", tree, [])
        props["hash"] = ""
        props["unresolved_imports"] = []
        self.nodes.append(Node(MODULE, self.path, props))
        self.symbols.defs.append((self.module, self.path, MODULE, 0))
        scope = Scope("module", self.module, self.path, MODULE, None)
        for statement in tree.body:
            self._visit(statement, scope)
        self._finish()

    # -- phase one ---------------------------------------------------------------------
    def _visit(self, node: ast.AST, scope: Scope) -> None:
        """Visit ``node`` and everything below it that belongs to ``scope``.

        Names, constants and attribute chains are most of any tree, so they are handled
        inline rather than through a handler call.
        """
        handlers = self._handlers
        stack = [node]
        pop, append, extend = stack.pop, stack.append, stack.extend
        name_type, constant_type, attribute_type, store = ast.Name, ast.Constant, ast.Attribute, ast.Store
        while stack:  # depth-first, in source order (children are pushed reversed)
            item = pop()
            kind = type(item)
            if kind is name_type:
                if type(item.ctx) is store:
                    scope.shadow(item.id)
                continue
            if kind is constant_type:
                continue
            if kind is attribute_type:
                append(item.value)
                continue
            handler = handlers.get(kind)
            if handler is not None and handler(item, scope):
                continue
            fields = CHILD_FIELDS.get(kind)
            if fields is None:
                fields = child_fields(kind)
            for name in fields:  # already reversed
                value = getattr(item, name)
                if type(value) is list:
                    extend(value[::-1])  # a None in a list (dict ** keys) is a leaf of no type
                elif value is not None:
                    append(value)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> bool:
        self._function(node, scope)
        return True

    def _visit_class(self, node: ast.ClassDef, scope: Scope) -> bool:
        self._class(node, scope)
        return True

    def _visit_import(self, node: ast.Import, scope: Scope) -> bool:
        self._import(node, scope)
        return True

    def _visit_import_from(self, node: ast.ImportFrom, scope: Scope) -> bool:
        self._import_from(node, scope)
        return True

    def _visit_call(self, node: ast.Call, scope: Scope) -> bool:
        self._call(node, scope)
        return False

    def _visit_assign(self, node: ast.Assign | ast.AnnAssign, scope: Scope) -> bool:
        self._assign(node, scope)
        return False

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        for expr in (*node.decorator_list, *node.args.defaults, *node.args.kw_defaults):
            if expr is not None:
                self._visit(expr, scope)
        label = METHOD if scope.kind == "class" else FUNCTION
        decorators = [self.text.segment(d) for d in node.decorator_list]
        child = self._define(node, scope, label, self.text.signature(node), decorators)
        positional = [*node.args.posonlyargs, *node.args.args]
        if label == METHOD and positional and "staticmethod" not in decorators:
            child.self_name = positional[0].arg
            child.class_scope = scope
        args = node.args
        for arg in (*positional, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                child.shadow(arg.arg)
        for statement in node.body:
            self._visit(statement, child)

    def _class(self, node: ast.ClassDef, scope: Scope) -> None:
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self._visit(expr, scope)
        decorators = [self.text.segment(d) for d in node.decorator_list]
        child = self._define(node, scope, CLASS, self.text.class_signature(node), decorators)
        self.nodes[-1].props["bases"] = [self.text.segment(base) for base in node.bases]
        self._bases.append((scope, child.qualname, child.key, list(node.bases)))
        for statement in node.body:
            self._visit(statement, child)

    def _define(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, scope: Scope,
                label: str, signature: str, decorators: list[str]) -> Scope:
        """Create the node for a definition, link it to ``scope`` and return its scope."""
        qualname = f"{scope.qualname}.{node.name}"
        local = qualname[len(self.module) + 1 :] if self.module else qualname
        count = self._seen.get(local, 0) + 1
        self._seen[local] = count
        key = f"{self.path}:{local}" if count == 1 else f"{self.path}:{local}#{count}"
        end = node.end_lineno if node.end_lineno is not None else node.lineno
        props = self._props(node.name, qualname, node.lineno, end, signature, node, decorators)
        self.nodes.append(Node(label, key, props))
        self.edges.append((DEFINES if scope.kind == "module" else CONTAINS, scope.key, scope.label, key, label))
        self.symbols.defs.append((qualname, key, label, _RANK[label]))
        scope.bind(node.name, qualname)
        return Scope("class" if label == CLASS else "function", qualname, key, label, scope)

    def _props(self, name: str, qualname: str, line: int, end: int, signature: str,
               node: ast.AST, decorators: list[str]) -> dict[str, object]:
        docstring = ast.get_docstring(node) or ""  # type: ignore[arg-type]
        return {
            "key": "", "name": name, "qualname": qualname, "file": self.path, "line": line,
            "end_line": end, "signature": signature, "docstring": docstring,
            "decorators": decorators, "unresolved_calls": [],
        }

    def _import(self, node: ast.Import, scope: Scope) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.partition(".")[0]
            target = alias.name if alias.asname else bound
            self._bind_import(scope, bound, target)
            self.refs.append((IMPORTS, self.path, MODULE, (alias.name,), alias.name, node.lineno, ""))

    def _import_from(self, node: ast.ImportFrom, scope: Scope) -> None:
        base = absolute_import(self.module, self.package, node.level, node.module)
        if base is None:
            return
        for alias in node.names:
            if alias.name == "*":
                if scope.kind == "module" and base not in self.symbols.stars:
                    self.symbols.stars.append(base)
                self.refs.append((IMPORTS, self.path, MODULE, (base,), base, node.lineno, ""))
                continue
            full = f"{base}.{alias.name}"
            self._bind_import(scope, alias.asname or alias.name, full)
            self.refs.append((IMPORTS, self.path, MODULE, (full, base), full, node.lineno, ""))

    def _bind_import(self, scope: Scope, bound: str, target: str) -> None:
        scope.bind(bound, target)
        if scope.kind == "module":
            self.symbols.aliases.append((f"{self.module}.{bound}", target))

    def _call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        parts = dotted(func)
        if parts is not None:
            self._calls.append((scope, parts, False, ".".join(parts), node.lineno))
        elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
              and isinstance(func.value.func, ast.Name) and func.value.func.id == "super"):
            self._calls.append((scope, [func.attr], True, f"super().{func.attr}", node.lineno))
        found = registration(node)
        if found is not None:
            self._register(found, scope, node)

    def _register(self, found: Registration, scope: Scope, node: ast.Call) -> None:
        local = f"register:{found.kind}:{found.name}"
        count = self._seen.get(local, 0) + 1
        self._seen[local] = count
        key = f"{self.path}:{local}" if count == 1 else f"{self.path}:{local}#{count}"
        end = node.end_lineno if node.end_lineno is not None else node.lineno
        props: dict[str, object] = {
            "key": key, "name": found.name, "kind": found.kind, "qualname": f"{found.kind}:{found.name}",
            "file": self.path, "line": node.lineno, "end_line": end, "target": found.target,
            "docstring": found.summary,
        }
        self.nodes.append(Node(TYPENAME, key, props))
        self.refs.append((REGISTERS, key, TYPENAME, (found.target_candidate,), found.target, node.lineno, "target"))
        if found.config is not None:
            self._configs.append((scope, key, found.config, node.lineno))

    def _assign(self, node: ast.Assign | ast.AnnAssign, scope: Scope) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if value is None:
            return
        if isinstance(value, ast.Call):
            parts = dotted(value.func)
            if parts is None:
                return
            for target in targets:
                if isinstance(target, ast.Name) and scope.kind != "class":
                    self._types.append((scope, target.id, parts))
                elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                      and scope.kind == "function" and scope.class_scope is not None
                      and target.value.id == scope.self_name):
                    self._attr_types.append((f"{scope.class_scope.qualname}.{target.attr}", scope, parts))
        elif scope.kind == "module":
            parts = dotted(value)
            if parts is not None:
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._aliases.append((scope, target.id, parts))

    # -- phase two ---------------------------------------------------------------------
    def _finish(self) -> None:
        candidates = Candidates(self.symbols.stars, {})
        for scope, name, parts in self._aliases:
            if scope.names.get(name):
                continue  # bound by a definition or an import, which wins
            found = candidates.of(scope, parts)
            if found:
                scope.bind(name, found[0])
                self.symbols.aliases.append((f"{self.module}.{name}", found[0]))
        attr_types: dict[str, str | None] = {}
        for attr, scope, parts in self._attr_types:
            found = candidates.of(scope, parts)
            value = found[0] if found else None
            attr_types[attr] = value if attr_types.get(attr, value) == value else None
        candidates = Candidates(self.symbols.stars, attr_types)
        for scope, name, parts in self._types:
            found = candidates.of(scope, parts)
            scope.set_type(name, found[0] if found else "")
        for scope, parts, is_super, name, line in self._calls:
            self.refs.append((CALLS, scope.key, scope.label, candidates.of(scope, parts, is_super), name, line, ""))
        for scope, qualname, key, bases in self._bases:
            found_bases: list[tuple[str, ...]] = []
            for base in bases:
                parts = dotted(base)
                found = candidates.of(scope, parts) if parts is not None else ()
                found_bases.append(found)
                self.refs.append((INHERITS, key, CLASS, found, self.text.segment(base), base.lineno, ""))
            self.symbols.bases.append((qualname, tuple(found_bases)))
        for scope, key, config, line in self._configs:
            parts = dotted(config)
            found = candidates.of(scope, parts) if parts is not None else ()
            self.refs.append((REGISTERS, key, TYPENAME, found, self.text.segment(config), line, "config"))
        for node in self.nodes:
            node.props["key"] = node.key
