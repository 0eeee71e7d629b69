"""The experiment tree's records: life-cycle rules, tree.json round trip and bad files, manifest diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caramba.processes.development.tree import (
    Change, Goal, MetricSummary, Node, NodeStatus, Tree, TreeError, describe, diff_manifests)

GOAL = Goal(question="lower the validation loss", metric="val_loss", direction="min")


def small_tree() -> Tree:
    """A root that ran, a child that ran, and an invalid sibling."""
    tree = Tree(goal=GOAL)
    tree.add(Node(manifest="nodes/n0.yml"))
    tree.add(Node(parent="n0", iteration=1, manifest="nodes/n1.yml", hypothesis="more heads help"))
    tree.add(Node(parent="n0", iteration=1, manifest="nodes/n2.yml"))
    for node_id, values in (("n0", [3.0, 3.1, 3.2]), ("n1", [2.8, 2.9, 2.85])):
        if node_id != "n0":
            tree.update(node_id, status="piloting")  # a variant pilots first; the root need not
        tree.update(node_id, status="running")
        ids = [f"{node_id}-s{i}" for i in range(3)]
        tree.update(node_id, status="done", run_ids=ids, metrics={"val_loss": MetricSummary.of(values, ids)})
    tree.update("n2", status="invalid", reason="n_heads 5 does not divide d_model 32")
    return tree


def test_ids_root_and_best() -> None:
    tree = small_tree()
    assert list(tree.nodes) == ["n0", "n1", "n2"] and tree.root == "n0"
    assert [n.id for n in tree.children("n0")] == ["n1", "n2"]
    assert [n.id for n in tree.done_nodes()] == ["n0", "n1"]
    assert tree.best().id == "n1"  # mean 2.85 < 3.1
    assert tree.nodes["n1"].metrics["val_loss"].mean == pytest.approx(2.85)
    maximise = Tree.model_validate({**tree.model_dump(), "goal": {**GOAL.model_dump(), "direction": "max"}})
    assert maximise.best().id == "n0"


@pytest.mark.parametrize(("node", "fields", "message"), [
    ("n2", {"status": "proposed"}, "cannot go from invalid to proposed"),
    ("n2", {"status": "piloting"}, "fixed variant is a new node with fixed_from"),
    ("n1", {"status": "running"}, "from done it may go to nothing"),
    ("n0", {"colour": "red"}, "cannot set colour"),
    ("n0", {"parent": "n1"}, "cannot set parent"),
    ("n9", {"status": "done"}, "no node 'n9'"),
    ("n0", {"iteration": -1}, "iteration"),
])
def test_illegal_changes_are_refused_with_what_is_allowed(node: str, fields: dict, message: str) -> None:
    tree = small_tree()
    before = tree.model_dump()
    with pytest.raises(TreeError, match=message):
        tree.update(node, **fields)
    assert tree.model_dump() == before  # nothing half-changed


def test_rules_of_new_nodes_and_final_states() -> None:
    tree = small_tree()
    child = tree.add(Node(parent="n0", iteration=1, manifest="nodes/n3.yml"))
    with pytest.raises(TreeError, match="proposed to running"):
        tree.update(child.id, status="running")  # only the root skips the pilot
    with pytest.raises(TreeError, match="without a reason"):
        tree.update(child.id, status="over_budget")
    tree.update(child.id, status="piloting")
    tree.update(child.id, status="running")
    with pytest.raises(TreeError, match="without its goal metric 'val_loss'"):
        tree.update(child.id, status="done")
    diverged = MetricSummary.of([2.9, float("nan"), 3.0], ["a", "b", "c"])
    with pytest.raises(TreeError, match=r"values \[2.9, nan, 3.0\] \(runs a, b, c\) are not all finite; mark it failed"):
        tree.update(child.id, status="done", metrics={"val_loss": diverged})
    with pytest.raises(TreeError, match="already has its root"):
        tree.add(Node(manifest="x.yml"))
    with pytest.raises(TreeError, match="parent='n42'"):
        tree.add(Node(parent="n42", manifest="x.yml"))
    with pytest.raises(TreeError, match="only an invalid node can be fixed"):
        tree.add(Node(parent="n0", fixed_from="n1", manifest="x.yml"))
    fixed = tree.add(Node(parent="n0", iteration=1, fixed_from="n2", manifest="nodes/n4.yml"))
    assert fixed.id == "n4" and tree.nodes["n2"].status == NodeStatus.invalid


def test_save_load_round_trip_and_bad_files(tmp_path: Path) -> None:
    tree = small_tree()
    path = tree.save(tmp_path / "tree.json")
    assert Tree.load(path) == tree
    assert json.loads(path.read_text())["nodes"]["n2"]["reason"].startswith("n_heads 5")
    path.write_text(path.read_text()[:-40])
    with pytest.raises(TreeError, match=r"tree.json: not valid JSON \(line \d+"):
        Tree.load(path)
    data = tree.model_dump(mode="json")
    data["nodes"]["n1"]["status"] = "exploded"
    path.write_text(json.dumps(data))
    with pytest.raises(TreeError, match=r"tree.json: not a caramba experiment tree: nodes.n1.status"):
        Tree.load(path)
    with pytest.raises(TreeError, match="no such file"):
        Tree.load(tmp_path / "missing.json")


def test_metric_summary_is_the_student_t_interval() -> None:
    s = MetricSummary.of([2.0, 4.0], ["a", "b"])
    # mean 3, sd sqrt(2), t(0.975, 1) = 12.7062047, half = 12.7062047 * sqrt(2) / sqrt(2)
    assert (s.n, s.mean) == (2, 3.0) and s.ci_low == pytest.approx(3 - 12.7062047) and s.ci_high == pytest.approx(3 + 12.7062047)
    one = MetricSummary.of([2.0], ["a"])
    assert one.ci_low is None and one.ci_high is None
    with pytest.raises(ValueError, match="one run id per value"):
        MetricSummary.of([1.0, 2.0], ["a"])


def test_diff_of_nested_manifests_is_ordered_and_readable() -> None:
    parent = {"name": "x", "model": {"layers": [{"type": "Attn", "n_heads": 4}, {"type": "MLP"}]},
              "train": {"lr": 0.003, "steps": 100, "warmup": 10}}
    child = {"name": "x", "model": {"layers": [{"type": "Attn", "n_heads": 8, "rope": True}]},
             "train": {"lr": 0.001, "steps": 100.0, "clip": None}}
    changes = diff_manifests(parent, child)
    assert changes == [
        Change(path="model.layers.0.n_heads", old=4, new=8),
        Change(path="model.layers.0.rope", old=None, new=True, kind="added"),
        Change(path="model.layers.1", old={"type": "MLP"}, new=None, kind="removed"),
        Change(path="train.lr", old=0.003, new=0.001),
        Change(path="train.warmup", old=10, new=None, kind="removed"),
        Change(path="train.clip", old=None, new=None, kind="added"),
    ]
    assert describe(changes[:1]) == "model.layers.0.n_heads: 4 -> 8"
    assert describe(changes) == ("model.layers.0.n_heads: 4 -> 8; model.layers.0.rope: (absent) -> true; "
                                 'model.layers.1: {"type": "MLP"} -> (absent); train.lr: 0.003 -> 0.001; '
                                 "train.warmup: 10 -> (absent); train.clip: (absent) -> null")
    assert diff_manifests(parent, parent) == [] and describe([]) == "no change"
    assert diff_manifests({"a": True}, {"a": 1}) == [Change(path="a", old=True, new=1)]
