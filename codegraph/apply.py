"""Apply an incremental sync's changes to the graph with the fewest writes that make it exact.

* Files that are gone (deleted, or no longer parseable) lose all their nodes
  (``DETACH DELETE``, which also drops every edge touching them).
* Re-parsed files are updated *in place*: a node whose key and label survive keeps its
  identity and gets its properties overwritten, so the edges other files have into it
  survive too; vanished nodes are deleted, new ones created. Their local ``DEFINES``/
  ``CONTAINS`` edges are replaced wholesale (they never leave the file).
* Resolved edges are diffed per re-linked file (re-parsed files and the *dependents*
  whose answers changed): an old edge that touched a deleted node is gone already, so
  it is re-created if still wanted; any other old edge is deleted only if no longer
  wanted. Dependents' ``unresolved_*`` properties are rewritten where they changed.

The result is the graph a full sync would build, which the tests check property by
property.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from caramba.codegraph.facts import CONTAINS, REGISTERS, FileFacts, Node
from caramba.codegraph.link import EdgeTuple, LinkRecord
from caramba.codegraph.properties import UNRESOLVED_PROPERTY
from caramba.codegraph.writer import GraphWriter

EMPTY_LINK: LinkRecord = ([], [], [])


@dataclass(slots=True)
class Changes:
    """What one incremental sync writes.

    ``facts``: re-parsed files (their nodes carry the new properties); ``existed``: which
    of them were in the graph before; ``removed``: files whose nodes all go; ``relinked``:
    path → (old, new) link record of every re-linked file.
    """

    facts: list[FileFacts] = field(default_factory=list)
    existed: set[str] = field(default_factory=set)
    removed: list[str] = field(default_factory=list)
    relinked: dict[str, tuple[LinkRecord, LinkRecord]] = field(default_factory=dict)


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
    if changes.removed:
        writer.delete_files(changes.removed)
    gone, ids = _replace_nodes(writer, changes, written)
    removed = set(changes.removed)
    create: list[EdgeTuple] = []
    delete: list[EdgeTuple] = []
    for old, new in changes.relinked.values():
        surviving = {edge for edge in old[0] if edge[1] not in gone and edge[3] not in gone
                     and edge[9] not in removed and edge[10] not in removed}
        wanted = set(new[0])
        delete.extend(sorted(surviving - wanted))
        create.extend(sorted(wanted - surviving))
    _delete_edges(writer, delete)
    written.edges_deleted = len(delete)
    _lookup_ids(writer, ids, create)
    _create_edges(writer, ids, create)
    written.edges_created += len(create)
    reparsed = {facts.path for facts in changes.facts}
    written.properties_set += _update_unresolved(
        writer, [pair for path, pair in changes.relinked.items() if path not in reparsed])
    return written


def _replace_nodes(writer: GraphWriter, changes: Changes, written: Written) -> tuple[set[str], dict[str, int]]:
    """Update, create and delete the re-parsed files' nodes; return (gone keys, key → id)."""
    before = writer.node_keys(sorted(changes.existed)) if changes.existed else {}
    kept: dict[str, list[Node]] = defaultdict(list)
    fresh: dict[str, list[Node]] = defaultdict(list)
    for facts in changes.facts:
        for node in facts.nodes:
            (kept if before.get(node.key) == node.label else fresh)[node.label].append(node)
    kept_keys = {node.key for nodes in kept.values() for node in nodes}
    gone: dict[str, list[str]] = defaultdict(list)
    for key, label in before.items():
        if key not in kept_keys:
            gone[label].append(key)
    for label, keys in gone.items():
        writer.delete_nodes(label, keys)
    for label, nodes in kept.items():
        writer.update_nodes(label, nodes)
        written.properties_set += len(nodes)
    ids: dict[str, int] = {}
    for label, nodes in fresh.items():
        ids.update(writer.create_nodes(label, nodes))
        written.nodes += len(nodes)
    if changes.existed:
        writer.delete_local_edges(sorted(changes.existed))
    local = [edge for facts in changes.facts for edge in facts.edges]
    _lookup_ids(writer, ids, local)  # local edges share the endpoint layout of resolved ones
    rows: dict[str, list[list[int]]] = defaultdict(list)
    for kind, source, _, target, _ in local:
        rows[kind].append([ids[source], ids[target]])
    for kind, batch in rows.items():
        writer.create_edges(kind, batch)
        written.edges_created += len(batch)
    return {key for keys in gone.values() for key in keys}, ids


def _lookup_ids(writer: GraphWriter, ids: dict[str, int], edges: Iterable[Sequence[Any]]) -> None:
    """Fetch the internal ids of edge endpoints that this sync did not look up yet.

    ``edges`` hold (type, source key, source label, target key, target label, …) first:
    resolved edges (``EdgeTuple``) and a file's local edges alike.
    """
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


def edge_row(ids: dict[str, int], edge: EdgeTuple) -> list[Any]:
    """The row one linked edge is written as (by this module and by ``caramba.codegraph.load``).

    ``[source id, target id]`` then the edge's properties: none for CONTAINS (package ->
    submodule is structural), ``line, count, name`` for the others, plus ``role`` for
    REGISTERS.
    """
    kind, source, _, target, _, role, line, count, name, _, _ = edge
    if kind == CONTAINS:
        return [ids[source], ids[target]]
    if kind == REGISTERS:
        return [ids[source], ids[target], line, count, name, role]
    return [ids[source], ids[target], line, count, name]


def _create_edges(writer: GraphWriter, ids: dict[str, int], edges: Sequence[EdgeTuple]) -> None:
    rows: dict[str, list[list]] = defaultdict(list)
    for edge in edges:
        rows[edge[0]].append(edge_row(ids, edge))
    for kind, batch in rows.items():
        writer.create_edges(kind, batch)


def _delete_edges(writer: GraphWriter, edges: Sequence[EdgeTuple]) -> None:
    groups: dict[tuple[str, str, str], list[list[str]]] = defaultdict(list)
    for kind, source, source_label, target, target_label, role, *_ in edges:
        groups[(kind, source_label, target_label)].append([source, target, role])
    for (kind, source_label, target_label), rows in groups.items():
        writer.delete_edges(kind, source_label, target_label, rows)


def _update_unresolved(writer: GraphWriter, pairs: Iterable[tuple[LinkRecord, LinkRecord]]) -> int:
    """Rewrite the ``unresolved_*`` properties that changed on dependents' nodes.

    (A re-parsed file's nodes got all their properties written already.)
    """
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
