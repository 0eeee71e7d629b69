"""What each turn of a development session asks, built only from the checkpoint.

Every turn is a fresh conversation: the goal, the tree so far (one line per node: its
change, status, metric with 95% CI and run ids, or why it stopped) and the turn's task.
Messages are built from the tree and the session's records only, so a resumed or
replayed session sends exactly what the original sent.
"""

from __future__ import annotations

import json
from typing import Any

from caramba.processes.development.config import DevelopmentConfig
from caramba.processes.development.tree import Node, Tree, describe

RULES = """You are part of caramba's development loop: it improves an ML experiment manifest
step by step. You change manifests only by proposing variants (propose_variant) whose
changes are dotted manifest paths; the loop validates, dry-runs, pilots and runs them,
and reports numbers with their run ids. Quote a number only with its run id. Be brief."""


def goal_lines(config: DevelopmentConfig) -> list[str]:
    """The goal as Markdown lines."""
    target = f", target {config.target:g}" if config.target is not None else ""
    better = "lower" if config.direction == "min" else "higher"
    return [f"# Goal: {config.question}", "",
            f"Metric: {config.metric} ({better} is better{target}); {config.seeds} seed(s) per variant.", ""]


def node_line(tree: Tree, node: Node) -> str:
    """One node: id, parent, change, status, and its number or its reason."""
    change = "starting manifest" if node.parent is None else (describe(node.diff) or "no change")
    line = f"- {node.id} (from {node.parent or '-'}, {node.proposed_by or 'start'}): {change} — {node.status.value}"
    summary = node.metrics.get(tree.goal.metric)
    if summary is not None:
        ci = f", 95% CI {summary.ci_low:.4f} to {summary.ci_high:.4f}" if summary.ci_low is not None else ""
        line += f"; {tree.goal.metric} {summary.mean:.4f}{ci} (runs {', '.join(summary.run_ids)})"
    if node.reason:
        line += f"; {node.reason}"
    return line


def tree_lines(tree: Tree) -> list[str]:
    """The tree so far, one line per node."""
    return ["## The tree so far", "", *[node_line(tree, n) for n in tree.ordered()], ""]


def message(config: DevelopmentConfig, tree: Tree, task: str) -> str:
    """The one user message of a turn: goal, tree, task."""
    return "\n".join([*goal_lines(config), *tree_lines(tree), "## Your task now", "", task.strip(), ""])


def plan_task(config: DevelopmentConfig, tree: Tree, parent: Node, parent_yaml: str, tried: list[dict[str, Any]]) -> str:
    """A proposer's planning turn: vary ``parent``."""
    memory = ("Earlier sessions on this goal tried (do not repeat what was refuted):\n"
              + "\n".join(f"- {json.dumps(t, default=str)[:300]}" for t in tried)) if tried else "Memory holds no earlier attempts at this goal."
    return (f"Propose up to {config.max_variants} variant(s) of node {parent.id} with propose_variant(name, changes, "
            f"hypothesis, refuted_if). Each should change one thing that could improve {config.metric}. "
            f"Do not change the seeds or the number of steps: the loop sets them. {memory}\n\n"
            f"Manifest of {parent.id}:\n```yaml\n{parent_yaml.rstrip()}\n```")


def fix_task(node: Node, changes: dict[str, Any], errors: str) -> str:
    """The proposer's turn to fix an invalid variant."""
    return (f"Your variant {node.id} was rejected at its check:\n{errors}\n\nYour changes were:\n```json\n"
            f"{json.dumps(changes, indent=1, default=str)}\n```\nPropose the corrected variant with propose_variant "
            f"(same parent, the full set of changes). Hypothesis: {node.hypothesis}")


def analyse_task(tree: Tree, nodes: list[Node], facts: list[str]) -> str:
    """The analyst's turn after an iteration."""
    return ("Analyse this iteration's results: what was learned, what is refuted, what to try next. Every number you "
            "quote must carry its run id, as in these facts:\n" + "\n".join(facts)
            + "\n\nVariants of this iteration: " + ", ".join(n.id for n in nodes))


def label(turn: Any) -> str:
    """How a turn is named in the transcript and the live view."""
    return {"plan": f"plan, iteration {turn.round}", "fix": f"fix ({turn.id})",
            "analyse": f"analysis, iteration {turn.round}"}.get(turn.kind, turn.id)
