"""Where each node sits in the drawing: a layered, top-down tidy layout with no overlaps.

Depth (distance from the root) gives the row. Leaves take consecutive columns in
depth-first id order, and each parent is centred over its first and last child, so a
subtree never crosses another and two nodes never share a place. Columns are unit-spaced;
the drawing scales the figure to the number of columns and rows.
"""

from __future__ import annotations

from caramba.processes.development.tree.tree import Tree


def layered(tree: Tree) -> dict[str, tuple[float, int]]:
    """``{node id: (column, row)}`` for every node reachable from the root (module docstring)."""
    places: dict[str, tuple[float, int]] = {}
    next_leaf = [0.0]

    def place(node_id: str, row: int) -> float:
        kids = [c.id for c in tree.children(node_id)]
        if not kids:
            column = next_leaf[0]
            next_leaf[0] += 1.0
        else:
            spots = [place(k, row + 1) for k in kids]
            column = (spots[0] + spots[-1]) / 2
        places[node_id] = (column, row)
        return column

    if tree.root:
        place(tree.root, 0)
    return places


def size(places: dict[str, tuple[float, int]]) -> tuple[int, int]:
    """``(columns, rows)`` the layout spans."""
    if not places:
        return 1, 1
    return int(max(x for x, _ in places.values())) + 1, max(r for _, r in places.values()) + 1
