"""The picture of the search: a layered top-down drawing of the tree, PNG and PDF.

Each node is a box coloured by its status (the project palette, :mod:`...artifacts.style`),
labelled with its id, a short form of what it changed and the goal metric (mean ± half
the 95% CI) or why it stopped. Edges run parent → child; a dashed edge joins an invalid
node to the node that fixed it. The path from the root to the best node is drawn thick,
and the best node's box has a heavy border. A legend below lists the statuses; the
footer and the PNG metadata name the runs (via :func:`style.save`), and the PNG records
the overlap check of its labels.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.patches import Patch

from caramba.engine.bench.artifacts import style
from caramba.processes.development.tree.diff import short
from caramba.processes.development.tree.fmt import metric_short
from caramba.processes.development.tree.layout import layered, size
from caramba.processes.development.tree.model import Node, NodeStatus
from caramba.processes.development.tree.tree import Tree

P = style.PALETTE  # blue, orange, green, vermillion, purple, sky, yellow, black
COLOURS = {NodeStatus.done: P[2], NodeStatus.running: P[5], NodeStatus.piloting: P[6], NodeStatus.proposed: "#D9D9D9",
           NodeStatus.pruned: P[1], NodeStatus.invalid: P[3], NodeStatus.over_budget: P[4], NodeStatus.failed: P[7]}
DARK = {NodeStatus.failed, NodeStatus.invalid, NodeStatus.done}
COLUMN_IN, ROW_IN = 1.25, 1.0  # inches per column / row


def label(tree: Tree, node: Node) -> str:
    """``n3`` / ``n_heads=8`` / ``2.85±0.12`` (or the status when the node has no result)."""
    summary = node.metrics.get(tree.goal.metric)
    third = metric_short(summary) if summary else node.status.value.replace("_", " ")
    return f"{node.id}\n{short(node.diff) if node.parent else 'start'}\n{third}"


def write_picture(tree: Tree, out_stem: Path) -> list[Path]:
    """Draw the tree to ``out_stem.png`` and ``out_stem.pdf``; returns both paths."""
    places = layered(tree)
    columns, rows = size(places)
    fig, (ax,) = style.figure(1, width=max(5.0, COLUMN_IN * columns), height=ROW_IN * rows + 1.1)
    ax.set_axis_off()
    best = tree.best()
    best_path = {n.id for n in tree.path_to(best.id)} if best else set()
    for node_id, (x, row) in places.items():
        node = tree.nodes[node_id]
        if node.parent in places:
            px, prow = places[node.parent]
            on_best = node_id in best_path
            ax.annotate("", xy=(x, -row + 0.2), xytext=(px, -prow - 0.2),
                        arrowprops={"arrowstyle": "-|>", "color": P[0] if on_best else "0.55",
                                    "lw": 2.6 if on_best else 0.9, "shrinkA": 0, "shrinkB": 0})
        if node.fixed_from in places:
            fx, frow = places[node.fixed_from]
            ax.annotate("", xy=(x - 0.33, -row), xytext=(fx + 0.33, -frow),
                        arrowprops={"arrowstyle": "-|>", "color": P[3], "lw": 1.0, "linestyle": "--",
                                    "connectionstyle": "arc3,rad=-0.3"})
    for node_id, (x, row) in places.items():
        node = tree.nodes[node_id]
        is_best = best is not None and node_id == best.id
        ax.text(x, -row, label(tree, node), ha="center", va="center", fontsize=7,
                color="white" if node.status in DARK else "black", fontweight="bold" if is_best else "normal",
                bbox={"boxstyle": "round,pad=0.35", "facecolor": COLOURS[node.status],
                      "edgecolor": P[0] if is_best else "0.3", "linewidth": 2.8 if is_best else 0.7})
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(-rows + 0.45, 0.55)
    goal = tree.goal
    width_chars = int(fig.get_figwidth() * 13)  # about 13 characters an inch at the title's 8 points
    ax.set_title(f"{textwrap.fill(goal.question, width_chars)}\n{goal.metric}, {'lower' if goal.direction == 'min' else 'higher'} is better; "
                 "mean ± half the 95% CI" + ("" if best is None else f"; thick: path to the best node ({best.id})"),
                 fontsize=8)
    present = [s for s in NodeStatus if any(n.status == s for n in tree.nodes.values())]
    handles = [Patch(facecolor=COLOURS[s], edgecolor="0.3", label=s.value.replace("_", " ")) for s in present]
    style.legend_below(fig, handles, [h.get_label() for h in handles])
    data = {n.id: {"status": n.status.value, "parent": n.parent, "place": list(places.get(n.id, (None, None))),
                   "mean": n.metrics[goal.metric].mean if goal.metric in n.metrics else None} for n in tree.ordered()}
    provenance = [(run, n.manifest_hash) for n in tree.done_nodes() for run in n.run_ids]
    return style.save(fig, Path(out_stem).with_suffix(".png"), data, provenance, runs_file="tree.json")
