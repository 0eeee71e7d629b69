"""Apply one sync's changes to the graph with the fewest writes that make it exact.

* Files that were parsed (added or changed) or deleted lose all their nodes (``DETACH
  DELETE``, which also drops every edge touching them); parsed files get fresh nodes,
  their ``DEFINES``/``CONTAINS`` edges and all their resolved edges.
* *Dependent* files (unchanged, but some resolution of theirs looked at a changed name)
  were re-resolved; their new edges are diffed against the old ones. An old edge that
  touched a replaced file is gone already, so it is re-created if still wanted; any
  other old edge is deleted only if it is no longer wanted. Their ``unresolved_*``
  properties are rewritten where they changed.

The result is the graph a full sync would build, which the tests check property by
property.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from caramba.codegraph.facts import CALLS, CONTAINS, IMPORTS, REGISTERS, FileFacts
from caramba.codegraph.link import EdgeTuple, LinkRecord
from caramba.codegraph.writer import GraphWriter

UNRESOLVED_PROPERTY = {CALLS: "unresolved_calls", IMPORTS: "unresolved_imports"}


@dataclass(slots=True)
class Changes:
    """What one sync writes; ``replaced`` are the indexed files whose nodes go away."""

    facts: list[FileFacts] = field(default_factory=list)
    links: dict[str, LinkRecord] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)
    dependents: dict[str, tuple[LinkRecord, LinkRecord]] = field(default_factory=dict)


@dataclass(slots=True)
class Written:
    """How much a sync wrote."""

    nodes: int = 0
    edges_created: int = 0
    edges_deleted: int = 0
    properties_set: int = 0


def apply(writer: GraphWriter, changes: Changes) -> Written:
    """Write ``changes`` through ``writer`` and return the counts."""
    written = Written()
    if changes.replaced:
        writer.delete_files(changes.replaced)
    ids: dict[str, int] = {}
    by_label: dict[str, list] = defaultdict(list)
    for facts in changes.facts:
        for node in facts.nodes:
            by_label[node.label].append(node)
    for label, nodes in by_label.items():
        ids.update(writer.create_nodes(label, nodes))
        written.nodes += len(nodes)
    local: dict[str, list[list[int]]] = defaultdict(list)
    for facts in changes.facts:
        for kind, source, _, target, _ in facts.edges:
            local[kind].append([ids[source], ids[target]])
    for kind, rows in local.items():
        writer.create_edges(kind, rows)
        written.edges_created += len(rows)
    create: list[EdgeTuple] = [edge for record in changes.links.values() for edge in record[0]]
    delete: list[EdgeTuple] = []
    replaced = set(changes.replaced)
    for old, new in changes.dependents.values():
        surviving = {edge for edge in old[0] if edge[9] not in replaced and edge[10] not in replaced}
        wanted = set(new[0])
        delete.extend(sorted(surviving - wanted))
        create.extend(sorted(wanted - surviving))
    _delete_edges(writer, delete)
    written.edges_deleted = len(delete)
    _lookup_ids(writer, ids, create)
    _create_edges(writer, ids, create)
    written.edges_created += len(create)
    written.properties_set = _update_unresolved(writer, changes.dependents.values())
    return written


def _lookup_ids(writer: GraphWriter, ids: dict[str, int], edges: Iterable[EdgeTuple]) -> None:
    """Fetch the internal ids of edge endpoints that this sync did not create."""
    missing: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        if edge[1] not in ids:
            missing[edge[2]].add(edge[1])
        if edge[3] not in ids:
            missing[edge[4]].add(edge[3])
    for label, keys in missing.items():
        found = writer.ids(label, keys)
        absent = keys - found.keys()
        if absent:
            raise RuntimeError(
                f"the code graph lacks {len(absent)} {label} node(s) its sync index expects "
                f"(e.g. {sorted(absent)[0]!r}); the graph was changed outside the sync. "
                "Run `caramba codegraph-sync --reset` to rebuild it."
            )
        ids.update(found)


def _create_edges(writer: GraphWriter, ids: dict[str, int], edges: Sequence[EdgeTuple]) -> None:
    rows: dict[str, list[list]] = defaultdict(list)
    for kind, source, _, target, _, role, line, count, name, _, _ in edges:
        if kind == REGISTERS:
            rows[kind].append([ids[source], ids[target], line, count, name, role])
        elif kind == CONTAINS:  # package -> submodule: structural, no properties
            rows[kind].append([ids[source], ids[target]])
        else:
            rows[kind].append([ids[source], ids[target], line, count, name])
    for kind, batch in rows.items():
        writer.create_edges(kind, batch)


def _delete_edges(writer: GraphWriter, edges: Sequence[EdgeTuple]) -> None:
    groups: dict[tuple[str, str, str], list[list[str]]] = defaultdict(list)
    for kind, source, source_label, target, target_label, role, *_ in edges:
        groups[(kind, source_label, target_label)].append([source, target, role])
    for (kind, source_label, target_label), rows in groups.items():
        writer.delete_edges(kind, source_label, target_label, rows)


def _update_unresolved(writer: GraphWriter, pairs: Iterable[tuple[LinkRecord, LinkRecord]]) -> int:
    """Rewrite ``unresolved_*`` properties of dependents whose unresolved names changed."""
    rows: dict[tuple[str, str], list[list]] = defaultdict(list)
    for old, new in pairs:
        before = {(source, label, kind): names for source, label, kind, names in old[1]}
        after = {(source, label, kind): names for source, label, kind, names in new[1]}
        for key in sorted(before.keys() | after.keys()):
            names = after.get(key, [])
            if before.get(key, []) != names:
                source, label, kind = key
                rows[(label, UNRESOLVED_PROPERTY[kind])].append([source, names])
    for (label, prop), batch in rows.items():
        writer.set_property(label, prop, batch)
    return sum(len(batch) for batch in rows.values())
