"""``tree.md``: the search as an indented tree and as a table, readable without any tool.

The indented tree shows each node under its parent with what it changed, its status (and
why, when it stopped early) and the goal metric with its 95% CI and run ids; the table adds
the hypothesis, the comparison with the parent and the cost. The best node is marked ★.
"""

from __future__ import annotations

from pathlib import Path

from caramba.engine.store.atomic import write_text
from caramba.processes.development.tree.diff import describe
from caramba.processes.development.tree.fmt import cell, cost_text, metric_text, num, quoted, status_text
from caramba.processes.development.tree.model import Node
from caramba.processes.development.tree.search import versus_parent
from caramba.processes.development.tree.tree import Tree


def versus_text(tree: Tree, node: Node) -> str:
    """The node against its parent on the goal metric: improvement, CI, p, verdict (``—`` when not comparable)."""
    versus = versus_parent(tree, node.id)
    if versus is None:
        return "—"
    if versus["ci_low"] is None:
        return f"improvement {num(versus['improvement'])} (untested: fewer than 2 seeds)"
    p = f", Welch p = {num(versus['p'])}" if versus["p"] is not None else ""
    verdict = "significant" if versus["significant"] else "not significant"
    return (f"improvement {num(versus['improvement'])} (95% CI {num(versus['ci_low'])} to {num(versus['ci_high'])}"
            f"{p}; {verdict})")


def node_line(tree: Tree, node: Node, best: Node | None) -> str:
    """One line of the indented tree."""
    star = " ★" if best is not None and node.id == best.id else ""
    fixed = f" (fixes {node.fixed_from})" if node.fixed_from else ""
    summary = node.metrics.get(tree.goal.metric)
    metric = f" — {tree.goal.metric} {metric_text(summary)}" if summary else ""
    change = "starting manifest" if node.parent is None else describe(node.diff)
    return f"**{node.id}**{star} `{change}`{fixed} — {status_text(node)}{metric}"


def tree_lines(tree: Tree) -> list[str]:
    """The indented tree, depth-first in id order."""
    best, lines = tree.best(), []

    def visit(node: Node, depth: int) -> None:
        lines.append("  " * depth + "- " + node_line(tree, node, best))
        for child in tree.children(node.id):
            visit(child, depth + 1)

    if tree.root:
        visit(tree.nodes[tree.root], 0)
    return lines


def table_lines(tree: Tree) -> list[str]:
    """The table of every node."""
    metric = tree.goal.metric
    lines = [f"| id | parent | iteration | change | hypothesis | status | {metric} (mean ± 95% CI; runs) | versus parent | cost |",
             "|---|---|---|---|---|---|---|---|---|"]
    for node in tree.ordered():
        summary = node.metrics.get(metric)
        cells = [node.id, node.parent or "—", str(node.iteration),
                 "starting manifest" if node.parent is None else f"`{describe(node.diff)}`",
                 quoted(node.hypothesis) if node.hypothesis else "—",
                 status_text(node), metric_text(summary) if summary else "—", versus_text(tree, node), cost_text(node.cost)]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return lines


def write_tree_md(tree: Tree, path: Path) -> Path:
    """Write ``tree.md`` (module docstring) atomically; returns its path."""
    goal = tree.goal
    target = f", target {num(goal.target)}" if goal.target is not None else ""
    head = ["# Experiment tree", "", f"Goal: {quoted(goal.question)}", "",
            f"Metric: `{goal.metric}` ({'lower' if goal.direction == 'min' else 'higher'} is better{target}), "
            f"{goal.seeds} seeds per node. ★ marks the best done node.", "", "## Search", ""]
    body = tree_lines(tree) or ["(no nodes yet)"]
    return write_text(path, "\n".join(head + body + ["", "## Nodes", ""] + table_lines(tree)) + "\n")
