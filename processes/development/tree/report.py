"""``report.md``: what a development session found, the evidence, what it tried, what it cost.

Sections: the goal (and why the search stopped); the best manifest, its path from the root
and its diff from the starting manifest (read from the two YAML files); the evidence
against the starting point (Welch on the goal metric, 95% CI, p, each number followed by
its run ids); every other node by outcome (refuted, no significant difference, pruned,
invalid, over budget, failed, pending) with its reason; the cost (per persona, compute,
and the counts of experiments by fate); the open questions the analyses raised.

**Every number is reproducible from the tree.** Numbers computed here go through
:func:`~.fmt.num`, and :func:`report_numbers` lists each of them by name;
:func:`unexplained_numbers` finds any number in a report that is not one of those.
Text someone wrote (hypotheses, validator and pilot messages, analyses) is in “curly
quotes”, and manifest values, paths and run ids are in `code`: both are quoted, not
computed, and skipped by the check.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from caramba.engine.store.atomic import write_text
from caramba.processes.development.tree.diff import describe_change, diff_manifests
from caramba.processes.development.tree.fmt import cost_text, metric_text, num, quoted, status_text
from caramba.processes.development.tree.model import Node, NodeStatus
from caramba.processes.development.tree.report_numbers import counts, evidence_line, report_numbers
from caramba.processes.development.tree.search import is_refuted, versus_parent
from caramba.processes.development.tree.tree import Tree, TreeError

__all__ = ["write_report", "report_numbers", "unexplained_numbers"]
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def _manifest(session_dir: Path, node: Node) -> dict[str, Any]:
    path = session_dir / node.manifest
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise TreeError(f"{path}: the manifest of node {node.id} is missing from the session folder") from None


def fate(tree: Tree, node: Node) -> str:
    """The heading a non-best node is listed under."""
    if node.status == NodeStatus.done:
        if is_refuted(tree, node):
            return "refuted (significantly worse than its parent)"
        versus = versus_parent(tree, node.id)
        if versus and not versus["significant"]:
            return "ran, no significant improvement over its parent"
        return "ran, significantly better than its parent (off the best path)" if versus else "ran"
    return {NodeStatus.pruned: "pruned at its pilot", NodeStatus.invalid: "invalid (failed validation)",
            NodeStatus.over_budget: "refused: over the compute budget", NodeStatus.failed: "failed"}.get(
        node.status, "not finished")


def write_report(tree: Tree, session_dir: Path, costs: dict[str, Any], stopped: str | None = None) -> Path:
    """Write ``session_dir/report.md`` (module docstring) atomically; returns its path.

    ``costs`` = ``{"personas": {name: {"usd", "tokens"}}, "compute": {"steps", "gpu_hours"}}``;
    ``stopped`` is the stop reason (:func:`~.search.stop_reason`), quoted as given.
    """
    session_dir = Path(session_dir)
    goal, root, best = tree.goal, tree.get(tree.root), tree.best()
    target = f", target {num(goal.target)}" if goal.target is not None else ""
    lines = ["# Development report", "", "## Goal", "", quoted(goal.question), "",
             f"Metric `{goal.metric}`, {'lower' if goal.direction == 'min' else 'higher'} is better{target}; "
             f"{num(goal.seeds)} seeds per node."]
    lines += ["", f"Stopped: {quoted(stopped)}"] if stopped else []
    lines += ["", "## Best manifest", ""]
    if best is None:
        lines += ["No node finished its full runs."]
    else:
        summary = best.metrics[goal.metric]
        lines += [f"`{best.manifest}` (node `{best.id}`, manifest sha256 `{best.manifest_hash or 'unknown'}`): "
                  f"{goal.metric} {metric_text(summary)}.", "",
                  "Path: " + " → ".join(f"`{n.id}`" for n in tree.path_to(best.id)) + "."]
        changes = diff_manifests(_manifest(session_dir, root), _manifest(session_dir, best)) if best.id != root.id else []
        lines += ["", "Changes from the starting manifest:" if changes else "It is the starting manifest."]
        lines += [f"- `{describe_change(c, 80)}`" for c in changes]
    lines += ["", "## Evidence against the starting point", ""] + evidence(tree, best)
    lines += ["", "## What was tried", ""] + tried(tree, best)
    lines += ["", "## Cost", ""] + cost_lines(tree, costs)
    lines += ["", "## Open questions", ""] + open_questions(tree)
    return write_text(session_dir / "report.md", "\n".join(lines) + "\n")


def evidence(tree: Tree, best: Node | None) -> list[str]:
    """The best node against the root, then each step of the path against its parent."""
    root = tree.get(tree.root)
    if best is None or root.status != NodeStatus.done:
        return ["The starting manifest has no result to compare against."]
    if best.id == root.id:
        return [f"No variant beat the starting manifest `{root.id}` on mean {tree.goal.metric}: "
                f"{metric_text(root.metrics[tree.goal.metric])}."]
    lines = [f"- best `{best.id}` against the start `{root.id}`: " + evidence_line(tree, root.id, best.id)]
    path = tree.path_to(best.id)
    if len(path) > 2:
        lines += ["", "Each step of the path against its parent:"]
        lines += [f"- `{n.id}` against `{n.parent}`: " + evidence_line(tree, n.parent, n.id) for n in path[1:]]
    return lines


def tried(tree: Tree, best: Node | None) -> list[str]:
    """Every node off the best path, grouped by fate, with hypothesis, result or reason."""
    on_path = {n.id for n in tree.path_to(best.id)} if best else set()
    groups: dict[str, list[str]] = {}
    for node in tree.ordered():
        if node.id in on_path or node.parent is None:
            continue
        versus = versus_parent(tree, node.id)
        summary = node.metrics.get(tree.goal.metric)
        result = (f"; against `{node.parent}`: {evidence_line(tree, node.parent, node.id)}" if versus
                  else f"; {tree.goal.metric} {metric_text(summary)}" if summary else "")
        fixed = f" (fixes `{node.fixed_from}`)" if node.fixed_from else ""
        hypothesis = f" — {quoted(node.hypothesis)}" if node.hypothesis else ""
        groups.setdefault(fate(tree, node), []).append(
            f"- `{node.id}` `{'; '.join(describe_change(c) for c in node.diff) or 'no change'}`{fixed}{hypothesis}: "
            f"{status_text(node)}{result}")
    lines = []
    for heading, items in groups.items():
        lines += [f"**{heading}**", ""] + items + [""]
    return lines or ["Nothing besides the best path."]


def cost_lines(tree: Tree, costs: dict[str, Any]) -> list[str]:
    """LLM cost per persona, compute, and how many experiments met each fate."""
    lines = ["| persona | LLM USD | LLM tokens |", "|---|---|---|"]
    personas = costs.get("personas", {})
    for name, spent in personas.items():
        lines.append(f"| {name} | {num(spent.get('usd', 0.0))} | {num(spent.get('tokens', 0))} |")
    lines.append(f"| total | {num(sum(p.get('usd', 0.0) for p in personas.values()))} | "
                 f"{num(sum(p.get('tokens', 0) for p in personas.values()))} |")
    compute = costs.get("compute", {})
    lines += ["", f"Compute: {num(compute.get('steps', 0))} training steps, {num(compute.get('gpu_hours', 0.0))} GPU-hours "
              "(pilots and full runs).", ""]
    lines += [f"Experiments: {', '.join(f'{num(v)} {k}' for k, v in counts(tree).items())}.", "", "Per node:"]
    lines += [f"- `{n.id}`: {cost_text(n.cost)}" for n in tree.ordered()]
    return lines


def open_questions(tree: Tree) -> list[str]:
    """Questions (sentences ending in ``?``) from the nodes' analyses, each once with the nodes that raised it."""
    asked: dict[str, list[str]] = {}
    for node in tree.ordered():
        for question in re.findall(r"[^.!?;:]*\?", node.analysis or ""):
            asked.setdefault(question.strip(), []).append(f"`{node.id}`")
    return [f"- {quoted(q)} ({', '.join(ids)})" for q, ids in asked.items()] or ["None were raised by the analyses."]


def unexplained_numbers(text: str, tree: Tree, costs: dict[str, Any]) -> list[str]:
    """Numbers in ``text`` (outside code and quotes, ``95%`` aside) that are not in :func:`report_numbers`."""
    known = {num(v) for v in report_numbers(tree, costs).values()}
    plain = re.sub(r"`[^`]*`|“[^”]*”|95% CI|at 95%", " ", text)
    return [m for m in NUMBER.findall(plain) if m not in known]
