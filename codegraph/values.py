"""Convert FalkorDB result values (nodes, edges, paths) into JSON-serialisable data."""

from __future__ import annotations

from typing import Any

#: The node properties that summarise a symbol in query answers.
SUMMARY_FIELDS = ("qualname", "name", "file", "line", "end_line")


def jsonable(value: Any) -> Any:
    """Return ``value`` with every FalkorDB ``Node``/``Edge``/``Path`` made plain data."""
    from falkordb import Edge, Node, Path

    if isinstance(value, Node):
        return {"id": value.id, "labels": list(value.labels), "properties": _plain(value.properties)}
    if isinstance(value, Edge):
        return {
            "id": value.id,
            "type": value.relation,
            "source": value.src_node.id if isinstance(value.src_node, Node) else value.src_node,
            "target": value.dest_node.id if isinstance(value.dest_node, Node) else value.dest_node,
            "properties": _plain(value.properties),
        }
    if isinstance(value, Path):
        return {"nodes": [jsonable(node) for node in value.nodes()], "edges": [jsonable(edge) for edge in value.edges()]}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
