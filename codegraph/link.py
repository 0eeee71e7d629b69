"""Turn one file's references into edges, unresolved names and dependencies.

Linking has two steps. *Answering* resolves each distinct question of the file, a
``(kind, candidates)`` pair, into a target node (or none) and the names the resolution
consulted; the package ``CONTAINS`` edge is one more question, ``(CONTAINS, (parent,))``,
answered by an exact lookup. *Aggregating* folds the file's references over those answers:

* resolved edges, one per ``(type, source, target)``, with the first line, the number
  of references folded into it and the name as written at the first line;
* for every node that calls or imports something, the sorted names that did not resolve
  (kept on the node as ``unresolved_calls`` / ``unresolved_imports``);
* the dependencies: every consulted name and its dotted prefixes.

The answers are stored per file, so an incremental sync re-answers only the questions
whose consulted names a change can affect, and aggregates again only when an answer
changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from caramba.codegraph.facts import CALLS, CONTAINS, IMPORTS, MODULE, RefTuple
from caramba.codegraph.symbols import ACCEPTS, Resolver, prefixes

#: An edge key: (type, source key, source label, target key, target label, role).
EdgeKey = tuple[str, str, str, str, str, str]
#: A stored edge: EdgeKey + (line, count, name, source file, target file).
EdgeTuple = tuple[str, str, str, str, str, str, int, int, str, str, str]
#: A stored link record: (edges, unresolved (source, source label, kind, names), deps).
LinkRecord = tuple[list[EdgeTuple], list[tuple[str, str, str, list[str]]], list[str]]
#: A question: (kind, candidates).
Question = tuple[str, tuple[str, ...]]
#: An answer: (target (key, label, file) or None, names consulted).
Answer = tuple[tuple[str, str, str] | None, tuple[str, ...]]
#: A stored answer: (kind, candidates, target or None, consulted).
AnswerTuple = tuple[str, tuple[str, ...], tuple[str, str, str] | None, tuple[str, ...]]


@dataclass(slots=True)
class Linked:
    """The global facts of one file: its resolved edges, unresolved names and deps."""

    edges: dict[EdgeKey, list] = field(default_factory=dict)
    unresolved: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    deps: set[str] = field(default_factory=set)
    answers: dict[Question, Answer] = field(default_factory=dict)

    def record(self) -> LinkRecord:
        """Return the link as stored in the sync index (sorted, so it compares exactly)."""
        edges = sorted((*key, *value) for key, value in self.edges.items())
        unresolved = sorted((*key, sorted(names)) for key, names in self.unresolved.items())
        return (edges, unresolved, sorted(self.deps))

    def answer_record(self) -> list[AnswerTuple]:
        """Return the answers as stored in the sync index."""
        return [(kind, candidates, target, consulted) for (kind, candidates), (target, consulted)
                in self.answers.items()]


def questions(module: str, refs: Iterable[RefTuple]) -> dict[Question, None]:
    """Return the distinct questions of a file's references (plus its package question)."""
    asked: dict[Question, None] = {(ref[0], ref[3]): None for ref in refs}
    parent = module.rpartition(".")[0]
    if parent:
        asked[(CONTAINS, (parent,))] = None
    return asked


def answer(resolver: Resolver, question: Question) -> Answer:
    """Answer one question: the first candidate whose target has an accepted label."""
    kind, candidates = question
    if kind == CONTAINS:  # the package edge: the parent must be exactly a module of ours
        found = resolver.exact(candidates[0])
        return (found if found is not None and found[1] == MODULE else None), candidates
    accepts = ACCEPTS[kind]
    consulted: list[str] = []
    for candidate in candidates:
        qualname, names = resolver.resolve(candidate)
        consulted.extend(names)
        if qualname is not None:
            found = resolver.target(qualname)
            if found[1] in accepts:
                return found, tuple(dict.fromkeys(consulted))
    return None, tuple(dict.fromkeys(consulted))


def link_file(resolver: Resolver, path: str, module: str, refs: list[RefTuple]) -> Linked:
    """Answer every question of file ``path`` (module ``module``) and aggregate its refs."""
    answers = {question: answer(resolver, question) for question in questions(module, refs)}
    return aggregate(path, refs, answers)


def aggregate(path: str, refs: Iterable[RefTuple], answers: dict[Question, Answer]) -> Linked:
    """Fold the references of file ``path`` over ``answers`` (one for every question)."""
    linked = Linked(answers=answers)
    edges, unresolved = linked.edges, linked.unresolved
    for kind, source, source_label, candidates, name, line, role in refs:
        target = answers[(kind, candidates)][0]
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
    consulted: set[str] = set()
    for (kind, candidates), (target, names) in answers.items():
        consulted.update(names)
        if kind == CONTAINS and target is not None:
            edges[(CONTAINS, target[0], MODULE, path, MODULE, "")] = [0, 1, "", target[2], path]
    linked.deps = prefixes(consulted)
    return linked
