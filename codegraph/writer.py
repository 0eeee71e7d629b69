"""Batched writes to the graph: ``UNWIND`` over rows of a few thousand at a time.

Rows are sent as a ``CYPHER rows=[…]`` parameter header written with ``json.dumps``
(C-accelerated; JSON arrays, strings and numbers are also Cypher literals), which is far
cheaper than falkordb-py's per-value formatting for hundreds of thousands of rows. Rows
are lists, not maps, so no property names are repeated. Strings arrive canonical
(``caramba.codegraph.text``: no control characters but tab, newline and carriage return,
no lone surrogates), which is what keeps them equal to the bulk-loaded ones of a full sync.

Edges are created between nodes matched by internal id (``NodeByIdSeek``), several times
faster than index lookups; ids are only used within the sync that fetched them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from caramba.codegraph.facts import CLASS, FUNCTION, LABELS, METHOD, MODULE, REGISTERS, Node
from caramba.codegraph.properties import EDGE_PROPERTIES, PROPERTIES

if TYPE_CHECKING:  # pragma: no cover - typing only
    from falkordb import Graph

BATCH_ROWS = 5000


class GraphWriter:
    """Writes nodes and edges of the code graph in batches."""

    def __init__(self, graph: "Graph", batch_rows: int = BATCH_ROWS) -> None:
        """Write to ``graph`` in batches of ``batch_rows`` rows."""
        self._graph = graph
        self._batch = batch_rows

    def create_nodes(self, label: str, nodes: Sequence[Node]) -> dict[str, int]:
        """Create ``nodes`` (all of ``label``) and return key → internal id."""
        names = PROPERTIES[label]
        assignments = ", ".join(f"{name}: r[{i}]" for i, name in enumerate(names))
        template = f"UNWIND $rows AS r CREATE (n:{label} {{{assignments}}}) RETURN r[0], id(n)"
        ids: dict[str, int] = {}
        rows = [[node.props[name] for name in names] for node in nodes]
        for result in self._run(template, rows):
            ids.update(result)
        return ids

    def create_edges(self, kind: str, rows: Sequence[Sequence[Any]]) -> None:
        """Create ``kind`` edges from rows ``[source id, target id, *properties]``.

        Properties follow ``EDGE_PROPERTIES`` (plus ``role`` for ``REGISTERS``); rows of
        two ids only create edges without properties (``DEFINES``, ``CONTAINS``).
        """
        if not rows:
            return
        names = (*EDGE_PROPERTIES, "role") if kind == REGISTERS else EDGE_PROPERTIES
        props = ""
        if len(rows[0]) > 2:
            props = " {" + ", ".join(f"{name}: r[{i + 2}]" for i, name in enumerate(names)) + "}"
        template = (f"UNWIND $rows AS r MATCH (a), (b) WHERE id(a) = r[0] AND id(b) = r[1] "
                    f"CREATE (a)-[:{kind}{props}]->(b)")
        for _ in self._run(template, rows):
            pass

    def ids(self, label: str, keys: Iterable[str]) -> dict[str, int]:
        """Return key → internal id for existing nodes of ``label``."""
        template = f"UNWIND $rows AS k MATCH (n:{label} {{key: k}}) RETURN k, id(n)"
        found: dict[str, int] = {}
        for result in self._run(template, sorted(set(keys))):
            found.update(result)
        return found

    def node_keys(self, paths: Sequence[str]) -> dict[str, str]:
        """Return key → label of every node that belongs to the files ``paths``."""
        found: dict[str, str] = {}
        for label in LABELS:
            for result in self._run(f"UNWIND $rows AS f MATCH (n:{label} {{file: f}}) RETURN n.key", paths):
                found.update((row[0], label) for row in result)
        return found

    def update_nodes(self, label: str, nodes: Sequence[Node]) -> None:
        """Overwrite every property of the existing ``label`` nodes ``nodes`` (by key).

        The nodes keep their identity, so edges from other files into them survive.
        """
        names = PROPERTIES[label]
        assignments = ", ".join(f"n.{name} = r[{i}]" for i, name in enumerate(names) if i)
        template = f"UNWIND $rows AS r MATCH (n:{label} {{key: r[0]}}) SET {assignments}"
        for _ in self._run(template, [[node.props[name] for name in names] for node in nodes]):
            pass

    def delete_nodes(self, label: str, keys: Sequence[str]) -> None:
        """Delete the ``label`` nodes with ``keys``, with all their edges."""
        for _ in self._run(f"UNWIND $rows AS k MATCH (n:{label} {{key: k}}) DETACH DELETE n", keys):
            pass

    def delete_local_edges(self, paths: Sequence[str]) -> None:
        """Delete the ``DEFINES``/``CONTAINS`` edges between nodes of the same file, per file."""
        for label in (MODULE, CLASS, FUNCTION, METHOD):
            template = (f"UNWIND $rows AS f MATCH (a:{label} {{file: f}})-[e:DEFINES|CONTAINS]->(b) "
                        "WHERE b.file = f DELETE e")
            for _ in self._run(template, paths):
                pass

    def delete_files(self, paths: Sequence[str]) -> None:
        """Delete every node of the files ``paths``, with all their edges."""
        for label in LABELS:
            for _ in self._run(f"UNWIND $rows AS f MATCH (n:{label} {{file: f}}) DETACH DELETE n", paths):
                pass

    def delete_edges(self, kind: str, source_label: str, target_label: str, rows: Sequence[Sequence[str]]) -> None:
        """Delete ``kind`` edges given as rows ``[source key, target key, role]``."""
        role = " WHERE e.role = r[2]" if kind == REGISTERS else ""
        template = (f"UNWIND $rows AS r MATCH (a:{source_label} {{key: r[0]}})-[e:{kind}]->"
                    f"(b:{target_label} {{key: r[1]}}){role} DELETE e")
        for _ in self._run(template, rows):
            pass

    def set_property(self, label: str, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Set property ``name`` of ``label`` nodes from rows ``[key, value]``."""
        template = f"UNWIND $rows AS r MATCH (n:{label} {{key: r[0]}}) SET n.{name} = r[1]"
        for _ in self._run(template, rows):
            pass

    def _run(self, template: str, rows: Sequence[Any]) -> Iterable[list[list[Any]]]:
        """Run ``template`` once per batch of ``rows``, yielding each batch's result rows."""
        for start in range(0, len(rows), self._batch):
            payload = json.dumps(rows[start : start + self._batch], ensure_ascii=False, separators=(",", ":"))
            yield self._graph.query(f"CYPHER rows={payload} {template}").result_set
