"""What a development session tells the knowledge memory, and what planning reads back from it.

:func:`remember_node` writes one chunk per node to the workspace's memory (the DeepLake
chunk dataset that ``memory search`` and the persona ``memory_*`` tools read), kind
``development``, id ``development:<session>:<node>`` so a node remembered again as it
moves on (piloting → done) replaces its earlier chunk. The text reads as a sentence for
search; the source carries the structured record: goal question and metric, the diff,
status and reason, the goal metric with its CI and run ids, the comparison with the
parent, whether it was refuted, and the analysis.

:func:`tried_before` returns what earlier sessions tried for a goal's metric and direction
(the same question first, then the newest), so the planner can avoid repeating a refuted
variant; :func:`is_repeat` finds a candidate whose diff (paths, old and new values, in any
order) was already tried.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from caramba.processes.development.tree.diff import describe
from caramba.processes.development.tree.fmt import metric_text, num
from caramba.processes.development.tree.model import Change, Goal, Node
from caramba.processes.development.tree.search import is_refuted, versus_parent
from caramba.processes.development.tree.tree import Tree

if TYPE_CHECKING:  # the memory stack (DeepLake, Graphiti) is imported only by whoever opens a Memory
    from caramba.memory.api import Memory

KIND = "development"


def outcome(tree: Tree, node: Node) -> str:
    """One sentence: the status (and reason), the goal metric with its CI and runs, the comparison with the parent."""
    text = node.status.value + (f" ({node.reason})" if node.reason else "")
    summary = node.metrics.get(tree.goal.metric)
    if summary is not None:
        text += f"; {tree.goal.metric} {metric_text(summary)}".replace("`", "")
    versus = versus_parent(tree, node.id)
    if versus is not None and versus["ci_low"] is not None:
        text += (f"; improvement over {node.parent} {num(versus['improvement'])} (95% CI {num(versus['ci_low'])} to "
                 f"{num(versus['ci_high'])}, {'significant' if versus['significant'] else 'not significant'})")
    return text


def remember_node(memory: Memory, tree: Tree, node: Node, session_id: str) -> None:
    """Write (or rewrite) the node's hypothesis, diff, outcome and analysis to ``memory`` (module docstring)."""
    goal, summary = tree.goal, node.metrics.get(tree.goal.metric)
    refuted = is_refuted(tree, node)
    change = "the starting manifest" if node.parent is None else f"{describe(node.diff)} (from {node.parent})"
    result = outcome(tree, node)
    text = (f"[development session {session_id}, node {node.id}] Goal: {goal.question} ({goal.metric}, {goal.direction}). "
            f"Tried {change}. Hypothesis: {node.hypothesis or '-'}; refuted if: {node.refuted_if or '-'}. "
            f"Outcome: {result}. {'Refuted.' if refuted else ''} Analysis: {node.analysis or '-'}")
    source = {"session": session_id, "node": node.id, "parent": node.parent, "question": goal.question,
              "metric": goal.metric, "direction": goal.direction, "diff": [c.model_dump(mode="json") for c in node.diff],
              "diff_text": describe(node.diff), "hypothesis": node.hypothesis, "status": node.status.value,
              "reason": node.reason, "refuted": refuted, "outcome": result, "manifest_hash": node.manifest_hash,
              "mean": summary.mean if summary else None, "ci_low": summary.ci_low if summary else None,
              "ci_high": summary.ci_high if summary else None, "run_ids": summary.run_ids if summary else node.run_ids,
              "analysis": node.analysis}
    from caramba.memory.chunks import Chunk

    when = datetime.now(timezone.utc).isoformat(timespec="seconds")  # the format of every memory date
    chunk = Chunk(f"{KIND}:{session_id}:{node.id}", KIND, text, source, f"{session_id}/{node.id}", when)
    memory.chunks.upsert([chunk], f"caramba memory: development {session_id} {node.id}")


def tried_before(memory: Memory, goal: Goal, k: int = 20) -> list[dict[str, Any]]:
    """What earlier sessions tried for ``goal``'s metric and direction, at most ``k`` (module docstring).

    Each entry: session, node, question, diff (list of change dicts), diff_text, status,
    reason, outcome, refuted, mean/ci_low/ci_high and run_ids of the goal metric, when.
    The starting manifests themselves (empty diffs) are left out.
    """
    store = memory.chunks
    store.refresh()
    entries = []
    for row in store.rows(f"kind == '{KIND}'"):
        source = row["source"]
        if source.get("metric") != goal.metric or source.get("direction") != goal.direction or not source.get("diff"):
            continue
        entries.append({**{key: source.get(key) for key in ("session", "node", "question", "diff", "diff_text", "status",
                                                             "reason", "outcome", "refuted", "mean", "ci_low", "ci_high",
                                                             "run_ids")}, "when": row["valid_at"]})
    entries.sort(key=lambda e: e["when"] or "", reverse=True)
    entries.sort(key=lambda e: e["question"] != goal.question)  # stable: same question first, newest first within
    return entries[:k]


def _key(changes: list[Change] | list[dict[str, Any]]) -> list[str]:
    """An order-free canonical form of a diff: one JSON string per change, sorted."""
    items = [c.model_dump(mode="json") if isinstance(c, Change) else Change.model_validate(c).model_dump(mode="json")
             for c in changes]
    return sorted(json.dumps(i, sort_keys=True) for i in items)


def is_repeat(candidate_diff: list[Change] | list[dict[str, Any]], tried: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first entry of ``tried`` whose diff is exactly ``candidate_diff`` (None if it is new)."""
    key = _key(candidate_diff)
    return next((entry for entry in tried if _key(entry.get("diff") or []) == key), None)
