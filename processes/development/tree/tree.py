"""``Tree``: the nodes of a development session, the rules of their life cycle, and ``tree.json``.

    tree = Tree(goal=Goal(question="…", metric="val_loss", direction="min"))
    root = tree.add(Node(manifest="nodes/n0.yml"))                 # id "n0", becomes the root
    child = tree.add(Node(parent="n0", iteration=1, manifest="nodes/n1.yml", hypothesis="…"))
    tree.update("n1", status="piloting")
    tree.update("n1", status="pruned", reason="pilot loss rose from 3.4 to 9.1")   # a reason is required
    tree.save(session / "tree.json");  Tree.load(session / "tree.json")

Every change goes through :meth:`Tree.update`, which refuses an illegal status move, an
unknown field, a final status without a reason, and ``done`` without the goal metric, with
an error saying what is wrong and what is allowed. ``tree.json`` is written atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from caramba.engine.store.atomic import write_json
from caramba.processes.development.tree.model import (
    NEEDS_REASON, TRANSITIONS, Goal, Node, NodeStatus, Strict)


class TreeError(ValueError):
    """A change the tree refuses, or a ``tree.json`` that cannot be read; the message says how to fix it."""


def _order(node_id: str) -> tuple[int, str]:
    """Sort key: n2 before n10."""
    digits = node_id[1:]
    return (int(digits), node_id) if digits.isdigit() else (1 << 30, node_id)


class Tree(Strict):
    """The experiment tree of one session (module docstring)."""

    goal: Goal
    root: str = Field("", description="id of the starting manifest's node (set by the first add)")
    nodes: dict[str, Node] = Field(default_factory=dict)

    def add(self, node: Node) -> Node:
        """Add ``node`` with the next id (``n0``, ``n1``, …) and return it; the first node is the root.

        The parent and ``fixed_from`` must exist; a node carrying an id must carry exactly
        the next one (replaying a recorded session re-adds nodes in their order).
        """
        next_id = f"n{len(self.nodes)}"
        if node.id and node.id != next_id:
            raise TreeError(f"node id {node.id!r} given, but the next id is {next_id!r}: leave id empty, Tree.add assigns it")
        if not self.nodes and node.parent is not None:
            raise TreeError(f"the first node is the root and has no parent, but parent={node.parent!r} was given")
        if self.nodes and node.parent is None:
            raise TreeError(f"the tree already has its root {self.root!r}; give the new node a parent")
        for field, ref in (("parent", node.parent), ("fixed_from", node.fixed_from)):
            if ref is not None and ref not in self.nodes:
                raise TreeError(f"{field}={ref!r} is not a node of this tree (nodes: {', '.join(self.nodes) or 'none'})")
        if node.fixed_from is not None and self.nodes[node.fixed_from].status != NodeStatus.invalid:
            raise TreeError(f"fixed_from={node.fixed_from!r} is {self.nodes[node.fixed_from].status.value}, not invalid; "
                            "only an invalid node can be fixed by a new one")
        node = node.model_copy(update={"id": next_id}, deep=True)
        self._check_done(node)
        self.nodes[next_id] = node
        if node.parent is None:
            self.root = next_id
        return node

    def get(self, node_id: str) -> Node:
        """The node ``node_id``; a :class:`TreeError` listing the known ids otherwise."""
        try:
            return self.nodes[node_id]
        except KeyError:
            raise TreeError(f"no node {node_id!r} in the tree (nodes: {', '.join(self.nodes) or 'none'})") from None

    def update(self, node_id: str, **fields: Any) -> Node:
        """Change fields of a node, status moves checked against the life cycle; returns the new node."""
        node = self.get(node_id)
        unknown = sorted(set(fields) - set(Node.model_fields))
        if unknown or {"id", "parent"} & set(fields):
            bad = unknown or sorted({"id", "parent"} & set(fields))
            raise TreeError(f"cannot set {', '.join(bad)} of {node_id}: settable fields are "
                            f"{', '.join(f for f in Node.model_fields if f not in ('id', 'parent'))}")
        try:
            new = Node.model_validate({**node.model_dump(), **fields})
        except ValidationError as error:
            raise TreeError(f"bad value for {node_id}: {_describe(error)}") from None
        if new.status != node.status:
            allowed = TRANSITIONS[node.status]
            if new.status not in allowed or (new.status == NodeStatus.running and node.status == NodeStatus.proposed
                                             and node.parent is not None):
                legal = sorted(s.value for s in allowed if s != NodeStatus.running or node.parent is None
                               or node.status != NodeStatus.proposed)
                raise TreeError(f"{node_id} cannot go from {node.status.value} to {new.status.value}; from "
                                f"{node.status.value} it may go to {', '.join(legal) or 'nothing (final)'}"
                                + (". A fixed variant is a new node with fixed_from set" if node.status == NodeStatus.invalid else ""))
        self._check_done(new)
        self.nodes[node_id] = new
        return new

    def _check_done(self, node: Node) -> None:
        if node.status in NEEDS_REASON and not (node.reason or "").strip():
            raise TreeError(f"{node.id} is {node.status.value} without a reason: pass reason= with the validator's or pilot's message")
        if node.status == NodeStatus.done and self.goal.metric not in node.metrics:
            raise TreeError(f"{node.id} is done without its goal metric {self.goal.metric!r}: pass metrics= in the same update")
        summary = node.metrics.get(self.goal.metric)
        if node.status == NodeStatus.done and not all(math.isfinite(v) for v in summary.values):
            raise TreeError(f"{node.id} cannot be done: its {self.goal.metric} values {summary.values} (runs "
                            f"{', '.join(summary.run_ids)}) are not all finite; mark it failed with that reason")

    def children(self, node_id: str) -> list[Node]:
        """The nodes whose parent is ``node_id``, in id order."""
        self.get(node_id)
        return [n for n in self.ordered() if n.parent == node_id]

    def ordered(self) -> list[Node]:
        """Every node in id order (n0, n1, …, n10)."""
        return [self.nodes[k] for k in sorted(self.nodes, key=_order)]

    def done_nodes(self) -> list[Node]:
        """Nodes that finished their full runs and carry the goal metric."""
        return [n for n in self.ordered() if n.status == NodeStatus.done]

    def best(self) -> Node | None:
        """The done node with the best mean of the goal metric (ties: the earlier id); None if none is done."""
        best: Node | None = None
        for node in self.done_nodes():
            if best is None or self.goal.better(node.metrics[self.goal.metric].mean, best.metrics[self.goal.metric].mean):
                best = node
        return best

    def path_to(self, node_id: str) -> list[Node]:
        """The nodes from the root down to ``node_id`` (both included)."""
        path = [self.get(node_id)]
        while path[-1].parent is not None:
            path.append(self.nodes[path[-1].parent])
        return path[::-1]

    def save(self, path: Path) -> Path:
        """Write the tree to ``path`` as JSON, atomically (a crash leaves the previous file whole)."""
        return write_json(path, self.model_dump(mode="json"))

    @classmethod
    def load(cls, path: Path) -> "Tree":
        """Read a tree written by :meth:`save`; a :class:`TreeError` naming the file and the bad field otherwise."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TreeError(f"{path}: no such file; a session writes tree.json in its folder") from None
        except json.JSONDecodeError as error:
            raise TreeError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
                            "restore it from the session record or delete it to start the tree afresh") from None
        try:
            tree = cls.model_validate(data)
        except ValidationError as error:
            raise TreeError(f"{path}: not a caramba experiment tree: {_describe(error)}") from None
        for node in tree.nodes.values():
            for ref in (node.parent, node.fixed_from):
                if ref is not None and ref not in tree.nodes:
                    raise TreeError(f"{path}: node {node.id} refers to {ref!r}, which is not in the file")
        return tree


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as ``field.path: message`` lines joined by ``; ``."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()[:5])
