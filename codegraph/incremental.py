"""The incremental sync's resolve and write stages: touch only what a change can affect.

1. The stored symbol table's entries that the changed files touch are recomputed from
   the few files that can contribute to them (``caramba.codegraph.tableupdate``); the
   rest of the table stays in the database and is read lazily (``codegraph.table``).
2. Re-parsed files are linked completely.
3. *Dependents*, unchanged files whose resolutions consulted a name under a changed
   module, re-answer only those questions; a dependent is re-aggregated (its references
   loaded, its edges diffed) only when one of its answers changed.
4. ``caramba.codegraph.apply`` writes the difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from caramba.codegraph.apply import EMPTY_LINK, Changes, apply
from caramba.codegraph.facts import CONTAINS, FileFacts
from caramba.codegraph.index import SyncIndex
from caramba.codegraph.link import Answer, LinkRecord, Question, aggregate, answer, questions
from caramba.codegraph.outcome import Outcome
from caramba.codegraph.plan import FileRecord, Plan
from caramba.codegraph.properties import set_unresolved
from caramba.codegraph.symbols import Resolver, resolve_all
from caramba.codegraph.table import StoredTable
from caramba.codegraph.tableupdate import affected_names, modules_of, recompute
from caramba.codegraph.writer import GraphWriter

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis
    from falkordb import Graph


def incremental_sync(raw: "redis.Redis", name: str, graph: "Graph", index: SyncIndex, plan: Plan,
                     facts: list[FileFacts], indexed: dict[str, FileRecord],
                     lap: Callable[[str], None]) -> Outcome:
    """Bring graph ``name`` from the ``indexed`` state to the re-parsed ``facts``."""
    ok = [item for item in facts if not item.error]
    changed = set(plan.changed)
    symbols = {item.path: item.symbols.as_tuple() for item in ok}
    table = StoredTable(raw, name)
    updates = _table_updates(index, changed, indexed, facts, symbols)
    for part, values in updates.items():
        for entry, value in values.items():
            table.set(part, entry, value)
    resolver = Resolver(table)

    modules = {indexed[path][3] for path in changed if path in indexed} | {item.module for item in facts}
    asked = {item.path: questions(item.module, item.refs) for item in ok}
    dependents = sorted(index.dependents(modules) - changed)
    old_answers = index.records("answers", dependents)
    below = tuple(f"{module}." for module in modules)
    touched = {path: [(kind, tuple(candidates)) for kind, candidates, _, consulted in old_answers[path]
                      if _touches(consulted, modules, below)] for path in dependents}
    _resolve(resolver, [*(q for qs in asked.values() for q in qs), *(q for qs in touched.values() for q in qs)])

    links: dict[str, LinkRecord] = {}
    answers: dict[str, list] = {}
    for item in ok:
        linked = aggregate(item.path, item.refs, {q: answer(resolver, q) for q in asked[item.path]})
        links[item.path] = linked.record()
        answers[item.path] = linked.answer_record()
        set_unresolved(item, links[item.path])
    moved = _moved(resolver, old_answers, touched)
    reparsed = sorted(path for path in changed if path in indexed)
    old_refs = index.records("refs", [*sorted(moved), *reparsed])
    old_answers.update(index.records("answers", reparsed))
    old_links = {path: aggregate(path, old_refs[path], _answer_map(old_answers[path])).record()
                 for path in [*sorted(moved), *reparsed] if path in old_refs and path in old_answers}
    for path in sorted(moved):
        linked = aggregate(path, old_refs[path], moved[path])
        links[path] = linked.record()
        answers[path] = linked.answer_record()
    lap("resolve")

    removed = [*plan.deleted, *(item.path for item in facts if item.error)]
    relinked = {path: (old_links.get(path, EMPTY_LINK), links[path]) for path in links}
    changes = Changes(ok, {item.path for item in ok if item.path in indexed}, removed, relinked)
    written = apply(GraphWriter(graph), changes)
    lap("write")
    old_deps = {path: record[2] for path, record in old_links.items()}
    new_deps = {path: record[2] for path, record in links.items()}
    return Outcome(
        written,
        relinked=len(moved),
        dependents=len(dependents),
        records={"symbols": symbols, "refs": {item.path: item.refs for item in ok}, "answers": answers},
        rdeps=_rdeps_update(index, old_deps, new_deps),
        table=updates,
    )


def _table_updates(index: SyncIndex, changed: set[str], indexed: dict[str, FileRecord], facts: list[FileFacts],
                   symbols: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Recompute the symbol-table entries that the changed files touch, before and after."""
    old = index.records("symbols", sorted(path for path in changed if path in indexed))
    affected = affected_names([*old.values(), *symbols.values()])
    files = {path: record for path, record in indexed.items() if path not in changed}
    files.update((item.path, (item.digest, item.size, item.mtime_ns, item.module, item.error)) for item in facts)

    def load(paths: list[str]) -> dict[str, Any]:
        found = {path: symbols[path] for path in paths if path in symbols}
        found.update(index.records("symbols", [path for path in paths if path not in changed]))
        return found

    return recompute(affected, modules_of(files), load)


def _resolve(resolver: Resolver, asked: Iterable[Question]) -> None:
    """Resolve every candidate of ``asked`` (fetching the stored table in rounds)."""
    candidates: set[str] = set()
    exact: set[str] = set()
    for kind, names in asked:
        (exact if kind == CONTAINS else candidates).update(names)
    resolve_all(resolver, candidates, exact)


def _moved(resolver: Resolver, old: dict[str, list], touched: dict[str, list[Question]]) -> dict[str, dict[Question, Answer]]:
    """Return the full answers of every dependent with a changed answer (by path)."""
    moved: dict[str, dict[Question, Answer]] = {}
    for path, asked in touched.items():
        if not asked:
            continue
        before = _answer_map(old[path])
        after = {question: answer(resolver, question) for question in asked}
        if any(before[question] != after[question] for question in asked):
            before.update(after)
            moved[path] = before
    return moved


def _answer_map(stored: list) -> dict[Question, Answer]:
    """Turn a stored answer record back into question -> answer."""
    return {(kind, tuple(candidates)): (target, tuple(consulted)) for kind, candidates, target, consulted in stored}


def _touches(consulted: Iterable[str], modules: set[str], below: tuple[str, ...]) -> bool:
    """Whether any consulted name is one of ``modules`` or lies below one (``below``: "m.")."""
    for name in consulted:
        if name in modules or name.startswith(below):
            return True
    return False


def _rdeps_update(index: SyncIndex, old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, list[str]]:
    """Return the ``rdeps`` entries to write (an empty list deletes an entry).

    ``old`` holds the previous deps of every re-linked, re-parsed, deleted or broken
    file; ``new`` the deps of those that have links now.
    """
    removals: dict[str, set[str]] = defaultdict(set)
    additions: dict[str, set[str]] = defaultdict(set)
    for path in set(old) | set(new):
        before, after = set(old.get(path, ())), set(new.get(path, ()))
        for dep in before - after:
            removals[dep].add(path)
        for dep in after - before:
            additions[dep].add(path)
    touched = sorted(removals.keys() | additions.keys())
    current = index.rdeps(touched)
    return {
        dep: sorted((set(current.get(dep, ())) - removals.get(dep, set())) | additions.get(dep, set()))
        for dep in touched
    }
