"""What a development session tells the knowledge memory, and what planning reads back from it.

:func:`remember_node` writes one chunk per node to the workspace's memory (the DeepLake
chunk dataset that ``memory search`` and the persona ``memory_*`` tools read), kind
``development``, id ``development:<session>:<node>`` so a node remembered again as it
moves on (piloting → done) replaces its earlier chunk. The text reads as a sentence for
search; the source carries the structured record: goal question and metric, the diff,
status and reason, the goal metric with its CI and run ids, the comparison with the
parent, whether it was refuted, and the analysis. The same outcome goes to the memory
graph (FalkorDB) as facts about a ``Variant`` entity named ``<session>/<node>``, linked to
its session, parent variant, verdict, metric and runs, so ``caramba memory facts
<session>/<node>`` answers from the graph too.

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
    memory.graph.write(_triplets(memory, tree, node, session_id, change, result, refuted, when), {})


def _triplets(memory: Memory, tree: Tree, node: Node, session_id: str, change: str, result: str, refuted: bool,
              when: str) -> Any:
    """The node as graph facts: ``Variant`` -TRIED_IN-> ``DevelopmentSession``, -VARIANT_OF-> its parent
    variant, -HAS_VERDICT-> its status, -MEASURED-> the goal metric, -TESTED_BY-> each recorded run."""
    from graphiti_core.nodes import EntityNode

    from caramba.memory.runfacts import LABELS
    from caramba.memory.triplets import Triplets

    goal, name = tree.goal, f"{session_id}/{node.id}"
    t = Triplets(memory.group)
    variant = t.node("Variant", name, f"{change}: {result}", session=session_id, node=node.id, status=node.status.value,
                     refuted=refuted, hypothesis=node.hypothesis)
    session = t.node("DevelopmentSession", session_id, goal.question, metric=goal.metric, direction=goal.direction)
    t.edge(variant, "TRIED_IN", session, f"development session {session_id} tried {change} ({node.id}) "
           f"for the goal {goal.question!r}; hypothesis: {node.hypothesis or '-'}", when)
    t.edge(variant, "HAS_VERDICT", t.node("Verdict", node.status.value),
           f"variant {name} ({change}) {'was refuted: ' if refuted else 'ended '}{result}", when)
    if node.parent is not None:
        parent = EntityNode(uuid=t.uid(f"Variant:{session_id}/{node.parent}"), name=f"{session_id}/{node.parent}",
                            group_id=memory.group, labels=["Entity", "Variant"])  # written earlier: an edge end only
        t.edge(variant, "VARIANT_OF", parent, f"variant {name} changes {change} against {session_id}/{node.parent}", when)
    summary = node.metrics.get(goal.metric)
    if summary is not None:
        metric = t.node("Metric", goal.metric, LABELS.get(goal.metric, goal.metric))
        t.edge(variant, "MEASURED", metric, f"variant {name} measured {goal.metric} = {summary.mean:.6g} over runs "
               f"{', '.join(summary.run_ids)}", when, value=summary.mean)
        for run in summary.run_ids:  # an edge to a run the memory has not recorded yet is simply not made
            target = EntityNode(uuid=t.uid(f"Run:{run}"), name=run, group_id=memory.group, labels=["Entity", "Run"])
            t.edge(variant, "TESTED_BY", target, f"variant {name} was run as {run}", when)
    return t


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
