"""Hand-built experiment trees for the tree tests: every status, fixes, refuted and improving branches."""

from __future__ import annotations

from pathlib import Path

import yaml

from caramba.processes.development.tree import Change, Cost, Goal, MetricSummary, Node, Tree
from caramba.processes.development.tree.diff import apply_changes

GOAL = Goal(question="lower the validation loss of a small transformer within 2,000 steps", metric="val_loss",
            direction="min", target=2.5)


def finish(tree: Tree, node_id: str, values: list[float], steps: int = 300) -> Node:
    """Move a node through its pilot and full runs to done with per-seed ``values``."""
    if tree.nodes[node_id].parent is not None:
        tree.update(node_id, status="piloting", pilot_run_ids=[f"{node_id}-pilot"])
    tree.update(node_id, status="running")
    ids = [f"{node_id}-s{seed}" for seed in range(len(values))]
    return tree.update(node_id, status="done", run_ids=ids, metrics={"val_loss": MetricSummary.of(values, ids)},
                       cost=Cost(steps=steps * len(values), gpu_hours=0.001 * len(values), llm_usd=0.01, llm_tokens=900),
                       analysis=f"{node_id}: what we learned; does depth matter more than width?")


def child(tree: Tree, parent: str, path: str, old: object, new: object, iteration: int, **extra: object) -> Node:
    """Add a child that changes one manifest path."""
    return tree.add(Node(parent=parent, iteration=iteration, manifest=f"nodes/{len(tree.nodes)}.yml",
                         manifest_hash=f"h{len(tree.nodes)}", diff=[Change(path=path, old=old, new=new)],
                         hypothesis=f"setting {path} to {new} lowers the loss", refuted_if="the CI of the difference "
                         "includes zero", proposed_by="architect", **extra))


def small() -> Tree:
    """Root, one improving child, one invalid variant fixed by a new node, one pruned at its pilot."""
    tree = Tree(goal=GOAL)
    tree.add(Node(manifest="nodes/0.yml", manifest_hash="h0", hypothesis="the starting point"))
    finish(tree, "n0", [3.10, 3.05, 3.15])
    child(tree, "n0", "model.layers.0.n_heads", 4, 8, 1)
    finish(tree, "n1", [2.80, 2.85, 2.78])
    child(tree, "n0", "model.layers.0.n_heads", 4, 5, 1)
    tree.update("n2", status="invalid", reason="n_heads 5 does not divide d_model 32")
    child(tree, "n0", "model.layers.0.n_heads", 4, 2, 1, fixed_from="n2")
    finish(tree, "n3", [3.00, 3.08, 3.02])
    child(tree, "n0", "train.lr", 0.003, 0.3, 1)
    tree.update("n4", status="piloting", pilot_run_ids=["n4-pilot"])
    tree.update("n4", status="pruned", reason="pilot loss diverged: 3.4 -> nan at step 40")
    return tree


def large() -> Tree:
    """About 22 nodes over 4 iterations: improving, refuted, over-budget, failed, running and proposed nodes."""
    tree = small()
    tree.update("n1", expanded=True)
    tree.update("n0", expanded=True)
    for i, (path, old, new) in enumerate([("train.lr", 0.003, 0.001), ("model.d_model", 32, 64),
                                          ("train.warmup", 10, 50), ("model.layers.1.d_ff", 64, 128)]):
        node = child(tree, "n1", path, old, new, 2)
        if i == 3:
            tree.update(node.id, status="over_budget", reason="needs 1.2 GPU-h, 0.4 left")
            continue
        finish(tree, node.id, [[2.60, 2.62, 2.58], [2.95, 2.99, 2.97], [2.79, 2.83, 2.81]][i])
    best = "n5"
    tree.update(best, expanded=True)
    for i in range(5):
        node = child(tree, best, f"model.layers.{i}.dropout", 0.0, round(0.1 * (i + 1), 1), 3)
        if i == 4:
            tree.update(node.id, status="piloting")
            tree.update(node.id, status="failed", reason="run failed: CUDA out of memory")
            continue
        finish(tree, node.id, [2.55 + 0.05 * i, 2.57 + 0.05 * i, 2.53 + 0.05 * i])
    tree.update("n9", expanded=True)
    for i in range(6):
        node = child(tree, "n9", "train.batch_size", 8, 16 * (i + 1), 4)
        if i < 3:
            finish(tree, node.id, [2.50 - 0.01 * i, 2.52 - 0.01 * i, 2.49 - 0.01 * i])
        elif i == 3:
            tree.update(node.id, status="piloting")
            tree.update(node.id, status="running")
        elif i == 4:
            tree.update(node.id, status="piloting")
    return tree


ROOT_MANIFEST = {"version": 2, "name": "dev", "model": {"d_model": 32, "layers": [
    {"type": "AttentionLayer", "n_heads": 4, "dropout": 0.0}, {"type": "SwiGLULayer", "d_ff": 64, "dropout": 0.0},
    {"dropout": 0.0}, {"dropout": 0.0}, {"dropout": 0.0}]},
    "train": {"lr": 0.003, "warmup": 10, "batch_size": 8}}


def write_manifests(tree: Tree, folder: Path) -> None:
    """Write each node's YAML: the root manifest with the diffs along the node's path applied."""
    for node in tree.ordered():
        manifest = ROOT_MANIFEST
        for step in tree.path_to(node.id)[1:]:
            manifest = apply_changes(manifest, step.diff)
        (folder / node.manifest).parent.mkdir(parents=True, exist_ok=True)
        (folder / node.manifest).write_text(yaml.safe_dump(manifest, sort_keys=False))
