"""Write a full sync's graph in one bulk load: every node, then every edge.

An incremental sync changes an existing graph through Cypher (``caramba.codegraph.apply``);
a full sync starts from no graph at all, so it sends everything through
``caramba.codegraph.bulk`` instead, which is several times faster. Both write the same
properties in the same form (``caramba.codegraph.writer.PROPERTIES``), which the
incremental tests check against each other node for node and edge for edge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from caramba.codegraph.apply import Written, edge_row
from caramba.codegraph.bulk import BulkLoader, encode
from caramba.codegraph.facts import LABELS, REGISTERS, FileFacts
from caramba.codegraph.link import LinkRecord
from caramba.codegraph.properties import EDGE_PROPERTIES, FIXED, UNRESOLVED


def load_full(loader: BulkLoader, facts: Iterable[FileFacts], links: dict[str, LinkRecord]) -> Written:
    """Load the nodes and local edges of ``facts`` and the resolved edges of ``links``.

    ``facts`` must have been parsed with ``blobs`` (``caramba.codegraph.parse``); their
    nodes' ``props`` hold only the ``unresolved_*`` values that linking set.
    """
    facts = list(facts)
    ids: dict[str, int] = {}
    by_label: dict[str, list] = defaultdict(list)
    for item in facts:
        for node in item.nodes:
            by_label[node.label].append(node)
    for label in LABELS:
        nodes = by_label.get(label)
        if not nodes:
            continue
        late = UNRESOLVED[label]
        records = [node.blob + b"".join([encode(node.props.get(name, [])) for name in late]) for node in nodes]
        ids.update(zip([node.key for node in nodes], loader.add_records(label, (*FIXED[label], *late), records)))
    edges: dict[str, list[list]] = defaultdict(list)
    for item in facts:
        for kind, source, _, target, _ in item.edges:
            edges[kind].append([ids[source], ids[target]])
    for record in links.values():
        for edge in record[0]:
            edges[edge[0]].append(edge_row(ids, edge))
    for kind, rows in edges.items():
        local = [row for row in rows if len(row) == 2]
        if local:
            loader.add_edges(kind, (), local)
        full = [row for row in rows if len(row) > 2]
        if full:
            loader.add_edges(kind, (*EDGE_PROPERTIES, "role") if kind == REGISTERS else EDGE_PROPERTIES, full)
    loader.finish()
    return Written(nodes=loader.nodes, edges_created=loader.edges)
