"""Turn one file's references into edges, unresolved names and dependencies.

The output of linking a file is everything about it that depends on *other* files:

* resolved edges, one per ``(type, source, target)``, with the first line, the number
  of references folded into it and the name as written at the first line;
* for every node that calls or imports something, the sorted names that did not resolve
  (kept on the node as ``unresolved_calls`` / ``unresolved_imports``);
* the package ``CONTAINS`` edge from the parent package module to this module;
* the dependencies: every dotted name whose definition could change these answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from caramba.codegraph.facts import CALLS, CONTAINS, IMPORTS, MODULE
from caramba.codegraph.symbols import ACCEPTS, Resolver

#: A stored reference: (kind, source key, source label, candidates, name, line, role).
RefTuple = tuple[str, str, str, tuple[str, ...], str, int, str]
#: An edge key: (type, source key, source label, target key, target label, role).
EdgeKey = tuple[str, str, str, str, str, str]
#: A stored edge: EdgeKey + (line, count, name, source file, target file).
EdgeTuple = tuple[str, str, str, str, str, str, int, int, str, str, str]
#: A stored link record: (edges, unresolved (source, source label, kind, names), deps).
LinkRecord = tuple[list[EdgeTuple], list[tuple[str, str, str, list[str]]], list[str]]


@dataclass(slots=True)
class Linked:
    """The global facts of one file: its resolved edges, unresolved names and deps."""

    edges: dict[EdgeKey, list] = field(default_factory=dict)
    unresolved: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    deps: set[str] = field(default_factory=set)

    def record(self) -> LinkRecord:
        """Return the link as stored in the sync index (sorted, so it compares exactly)."""
        edges = sorted((*key, *value) for key, value in self.edges.items())
        unresolved = sorted((*key, sorted(names)) for key, names in self.unresolved.items())
        return (edges, unresolved, sorted(self.deps))


def link_file(resolver: Resolver, path: str, module: str, refs: Iterable[RefTuple]) -> Linked:
    """Resolve the references of file ``path``, whose dotted module name is ``module``.

    The module node's key is ``path``; ``module`` gives the package ``CONTAINS`` edge.
    """
    linked = Linked()
    edges, unresolved = linked.edges, linked.unresolved
    answers: dict[tuple[str, tuple[str, ...]], tuple[str, str, str] | None] = {}
    used: set[str] = set()
    for kind, source, source_label, candidates, name, line, role in refs:
        question = (kind, candidates)
        if question in answers:
            target = answers[question]
        else:
            target = _answer(resolver, ACCEPTS[kind], candidates, used)
            answers[question] = target
        if target is None:
            if kind == CALLS or kind == IMPORTS:
                unresolved.setdefault((source, source_label, kind), set()).add(name)
            continue
        edge = (kind, source, source_label, target[0], target[1], role)
        known = edges.get(edge)
        if known is None:
            edges[edge] = [line, 1, name, path, target[2]]
        else:
            known[1] += 1
            if line < known[0]:
                known[0] = line
                known[2] = name
    deps = linked.deps
    for candidate in used:
        deps.update(resolver.resolve(candidate)[1])
    parent = module.rpartition(".")[0]
    if parent:
        _package_edge(resolver, parent, path, linked)
    return linked


def _answer(resolver: Resolver, accepts: frozenset[str], candidates: tuple[str, ...],
            used: set[str]) -> tuple[str, str, str] | None:
    """Return the first candidate's target of an accepted label; note the tried candidates."""
    for candidate in candidates:
        used.add(candidate)
        qualname = resolver.resolve(candidate)[0]
        if qualname is not None:
            found = resolver.target(qualname)
            if found[1] in accepts:
                return found
    return None


def _package_edge(resolver: Resolver, parent: str, path: str, linked: Linked) -> None:
    """Add ``parent package -[CONTAINS]-> module`` when the parent is a module of ours."""
    position = parent.find(".")
    while position != -1:
        linked.deps.add(parent[:position])
        position = parent.find(".", position + 1)
    linked.deps.add(parent)
    found = resolver.exact(parent)
    if found is not None and found[1] == MODULE:
        linked.edges[(CONTAINS, found[0], MODULE, path, MODULE, "")] = [0, 1, "", found[2], path]
