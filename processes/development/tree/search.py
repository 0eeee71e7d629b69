"""The search policy: compare two nodes, pick the node to expand next, decide when to stop.

**Comparing.** Two nodes are compared on the goal metric's per-seed values with Welch's
t-test (:func:`caramba.engine.bench.compare.stats.welch`). The result is oriented by the
goal: ``improvement`` > 0 means B is better than A (lower for ``min``, higher for ``max``),
with its 95% CI; ``significant`` means that CI excludes zero (with one seed on either side
there is no CI, so nothing is significant).

**Refuted.** A node is refuted when it was pruned at its pilot, or when it ran and came out
*significantly worse* than its parent. A node no better than its parent is not refuted (the
seeds could not tell them apart); it just ranks lower.

**Best-first.** :func:`next_to_expand` returns the done, not yet expanded, not refuted node
with the best mean of the goal metric. Pruned, invalid, over-budget and failed nodes are
never done, so their branches are never expanded.

**Stopping** (:func:`stop_reason`), checked in this order: the starting manifest itself
failed (nothing to compare against); the target is met with 95%
confidence (the best node's CI lies entirely beyond it); the compute or LLM budget is spent;
``max_iterations`` iterations ran; ``patience`` iterations ran since the last one that brought
a significant improvement over the best so far; nothing is left to expand.
Iterations count as in :class:`~caramba.processes.development.tree.model.Node`: the root is
iteration 0, the k-th expansion proposes nodes of iteration k, and ``iterations_done`` is how
many expansions have finished.
"""

from __future__ import annotations

from typing import Any

from caramba.engine.bench.compare.stats import welch
from caramba.processes.development.tree.model import ACTIVE, Node, NodeStatus
from caramba.processes.development.tree.tree import Tree, TreeError


def values(tree: Tree, node: Node) -> list[float]:
    """The node's per-seed values of the goal metric (a :class:`TreeError` when it has none)."""
    summary = node.metrics.get(tree.goal.metric)
    if summary is None:
        raise TreeError(f"{node.id} has no {tree.goal.metric!r} values (status {node.status.value}); only done nodes compare")
    return summary.values


def compare_nodes(tree: Tree, a_id: str, b_id: str) -> dict[str, Any]:
    """B against A on the goal metric: the oriented improvement, its 95% CI, Welch's p and the verdict."""
    a, b = tree.get(a_id), tree.get(b_id)
    d = welch(values(tree, a), values(tree, b))
    sign = -1.0 if tree.goal.direction == "min" else 1.0
    low, high = (None, None) if d.ci_low is None else sorted((sign * d.ci_low, sign * d.ci_high))
    significant = low is not None and (low > 0 or high < 0)
    return {"a": a.id, "b": b.id, "metric": tree.goal.metric, "direction": tree.goal.direction,
            "difference": d.diff, "improvement": sign * d.diff, "ci_low": low, "ci_high": high, "p": d.p,
            "test": d.test, "significant": significant, "a_run_ids": a.metrics[tree.goal.metric].run_ids,
            "b_run_ids": b.metrics[tree.goal.metric].run_ids}


def versus_parent(tree: Tree, node_id: str) -> dict[str, Any] | None:
    """:func:`compare_nodes` of the node against its parent (None for the root or when either is not done)."""
    node = tree.get(node_id)
    if node.parent is None or node.status != NodeStatus.done or tree.nodes[node.parent].status != NodeStatus.done:
        return None
    return compare_nodes(tree, node.parent, node.id)


def is_refuted(tree: Tree, node: Node) -> bool:
    """Pruned at its pilot, or done and significantly worse than its parent (module docstring)."""
    if node.status == NodeStatus.pruned:
        return True
    versus = versus_parent(tree, node.id)
    return versus is not None and versus["significant"] and versus["improvement"] < 0


def next_to_expand(tree: Tree) -> Node | None:
    """The best done node not yet expanded and not refuted (None when there is none)."""
    metric = tree.goal.metric
    best: Node | None = None
    for node in tree.done_nodes():
        if node.expanded or is_refuted(tree, node):
            continue
        if best is None or tree.goal.better(node.metrics[metric].mean, best.metrics[metric].mean):
            best = node
    return best


def champion_history(tree: Tree) -> list[tuple[int, Node]]:
    """``(iteration, node)`` each time a node became the best so far by a significant improvement.

    The root's done result is the first champion; a later done node replaces the champion
    only when :func:`compare_nodes` says it is significantly better.
    """
    history: list[tuple[int, Node]] = []
    for node in sorted(tree.done_nodes(), key=lambda n: n.iteration):
        if not history:
            history.append((node.iteration, node))
            continue
        versus = compare_nodes(tree, history[-1][1].id, node.id)
        if versus["significant"] and versus["improvement"] > 0:
            history.append((node.iteration, node))
    return history


def target_met(tree: Tree) -> str | None:
    """A sentence when the best node's 95% CI lies entirely beyond the goal's target, else None."""
    goal, best = tree.goal, tree.best()
    if goal.target is None or best is None:
        return None
    s = best.metrics[goal.metric]
    if s.ci_low is None:
        return None
    beyond = s.ci_high < goal.target if goal.direction == "min" else s.ci_low > goal.target
    if not beyond:
        return None
    side = "below" if goal.direction == "min" else "above"
    return (f"target met: {best.id} has {goal.metric} {s.mean:.4g} (95% CI {s.ci_low:.4g} to {s.ci_high:.4g}; "
            f"runs {', '.join(s.run_ids)}), {side} the target {goal.target:g} with 95% confidence")


def stop_reason(tree: Tree, *, iterations_done: int, max_iterations: int | None, patience: int | None,
                compute_left_steps: int | None, llm_budget_left: float | None) -> str | None:
    """Why the search should stop now, as a sentence; None to go on (module docstring for the order).

    ``None`` for a limit means there is none; ``llm_budget_left`` is in the session's budget
    unit (dollars or tokens).
    """
    root = tree.nodes.get(tree.root)
    if root is not None and root.status in (NodeStatus.failed, NodeStatus.invalid, NodeStatus.over_budget, NodeStatus.pruned):
        return f"the starting manifest ({root.id}) is {root.status.value}: {root.reason}; there is nothing to compare against"
    reached = target_met(tree)
    if reached:
        return reached
    if compute_left_steps is not None and compute_left_steps <= 0:
        return f"compute budget spent ({compute_left_steps} training steps left)"
    if llm_budget_left is not None and llm_budget_left <= 0:
        return f"LLM budget spent ({llm_budget_left:g} left)"
    if max_iterations is not None and iterations_done >= max_iterations:
        return f"reached the maximum of {max_iterations} iterations"
    history = champion_history(tree)
    if patience and history:
        last_iteration, champion = history[-1]
        stale = iterations_done - last_iteration
        if stale >= patience:
            return (f"no significant improvement over the best so far ({champion.id}, from iteration {last_iteration}) "
                    f"in the last {stale} iterations (patience {patience})")
    if tree.nodes and not any(n.status in ACTIVE for n in tree.nodes.values()) and next_to_expand(tree) is None:
        return "nothing left to expand: every done node is expanded or refuted, and no node is pending"
    return None
