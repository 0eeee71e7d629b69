"""Best-first search and stop rules on hand-built trees, against Welch's test written out here from its formula."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from caramba.processes.development.tree import Goal, MetricSummary, Node, Tree
from caramba.processes.development.tree.search import (
    champion_history, compare_nodes, is_refuted, next_to_expand, stop_reason)
from tests.processes.development.trees import child, finish, large, small


def welch_reference(a: list[float], b: list[float]) -> tuple[float, float, float, float]:
    """(mean_b − mean_a, CI low, CI high, p) from Welch (1947): se² = s_a²/n_a + s_b²/n_b, Satterthwaite df."""
    na, nb = len(a), len(b)
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((x - ma) ** 2 for x in a) / (na - 1) / na
    vb = sum((x - mb) ** 2 for x in b) / (nb - 1) / nb
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    t = (mb - ma) / se
    half = stats.t.ppf(0.975, df) * se
    return mb - ma, mb - ma - half, mb - ma + half, 2 * stats.t.sf(abs(t), df)


def test_compare_nodes_is_welch_oriented_by_the_goal() -> None:
    tree = small()
    a, b = [3.10, 3.05, 3.15], [2.80, 2.85, 2.78]
    diff, low, high, p = welch_reference(a, b)
    versus = compare_nodes(tree, "n0", "n1")
    assert versus["difference"] == pytest.approx(diff)
    assert versus["improvement"] == pytest.approx(-diff) and versus["improvement"] > 0  # lower loss is better
    assert (versus["ci_low"], versus["ci_high"]) == (pytest.approx(-high), pytest.approx(-low))
    assert versus["p"] == pytest.approx(p) and p < 0.05 and versus["significant"]
    assert versus["b_run_ids"] == ["n1-s0", "n1-s1", "n1-s2"]
    assert p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)  # the reference agrees with scipy's own
    worse = compare_nodes(tree, "n1", "n0")
    assert worse["improvement"] < 0 and worse["significant"]
    close = compare_nodes(tree, "n0", "n3")  # 3.10 vs 3.033: overlapping seeds
    assert not close["significant"] and close["ci_low"] < 0 < close["ci_high"]


def test_maximising_goal_flips_the_orientation() -> None:
    tree = Tree(goal=Goal(question="accuracy up", metric="acc", direction="max"))
    for values, parent in (([0.50, 0.52, 0.51], None), ([0.60, 0.61, 0.62], "n0")):
        node = tree.add(Node(parent=parent, manifest="m.yml"))
        ids = [f"{node.id}-{i}" for i in range(3)]
        if parent:
            tree.update(node.id, status="piloting")
        tree.update(node.id, status="running")
        tree.update(node.id, status="done", metrics={"acc": MetricSummary.of(values, ids)})
    versus = compare_nodes(tree, "n0", "n1")
    assert versus["improvement"] == pytest.approx(0.1) and versus["significant"] and tree.best().id == "n1"


def test_next_to_expand_is_best_first_and_skips_refuted_and_expanded() -> None:
    tree = small()
    assert next_to_expand(tree).id == "n1"  # best mean among done, unexpanded
    tree.update("n1", expanded=True)
    assert next_to_expand(tree).id == "n3"  # 3.033 < n0's 3.1 (not significantly, so not refuted)
    assert is_refuted(tree, tree.nodes["n4"])  # pruned at its pilot
    worse = child(tree, "n0", "train.lr", 0.003, 0.01, 1)
    finish(tree, worse.id, [3.60, 3.62, 3.58])
    assert is_refuted(tree, tree.nodes[worse.id]) and not is_refuted(tree, tree.nodes["n3"])
    tree.update("n3", expanded=True)
    tree.update("n0", expanded=True)
    assert next_to_expand(tree) is None  # the only unexpanded done node is refuted; invalid/pruned never expand


def test_stop_rules_in_order() -> None:
    tree = large()
    common = {"iterations_done": 4, "max_iterations": 10, "patience": 3, "compute_left_steps": 500, "llm_budget_left": 1.0}
    assert stop_reason(tree, **common) is None  # target 2.5 not met with confidence (n16's CI reaches above it)
    tree.update("n16", metrics={"val_loss": MetricSummary.of([2.40, 2.41, 2.42], ["a", "b", "c"])})
    assert stop_reason(tree, **common).startswith("target met: n16 has val_loss 2.41 (95% CI")
    tree.goal.target = None
    assert "compute budget spent" in stop_reason(tree, **{**common, "compute_left_steps": 0})
    assert "LLM budget spent" in stop_reason(tree, **{**common, "llm_budget_left": 0.0})
    assert "maximum of 4 iterations" in stop_reason(tree, **{**common, "max_iterations": 4})
    history = [(i, n.id) for i, n in champion_history(tree)]
    assert history[0] == (0, "n0") and history[1] == (1, "n1") and history[-1][1] == "n16"
    assert stop_reason(tree, **{**common, "iterations_done": 6}) is None  # 2 stale iterations < patience 3
    assert "in the last 3 iterations (patience 3)" in stop_reason(tree, **{**common, "iterations_done": 7})


def test_search_exhausted_when_nothing_is_left() -> None:
    tree = small()
    limits = {"iterations_done": 1, "max_iterations": None, "patience": None, "compute_left_steps": None,
              "llm_budget_left": None}
    assert stop_reason(tree, **limits) is None
    for node_id in ("n0", "n1", "n3"):
        tree.update(node_id, expanded=True)
    assert stop_reason(tree, **limits).startswith("nothing left to expand")


def test_a_failed_start_stops_the_search_with_its_reason() -> None:
    tree = Tree(goal=Goal(question="q", metric="val_loss", direction="min"))
    tree.add(Node(manifest="m.yml"))
    limits = {"iterations_done": 0, "max_iterations": 5, "patience": 2, "compute_left_steps": 100, "llm_budget_left": 1.0}
    assert stop_reason(tree, **limits) is None  # the root is still to run
    tree.update("n0", status="running")
    tree.update("n0", status="failed", reason="run n0-s0 failed: loss is nan at step 3")
    assert stop_reason(tree, **limits) == ("the starting manifest (n0) is failed: run n0-s0 failed: loss is nan at step 3; "
                                           "there is nothing to compare against")
