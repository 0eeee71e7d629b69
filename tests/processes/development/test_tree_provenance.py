"""A tree built from real runs: report.md's numbers and the tree's values checked against the run store.

Two arms (GQA as the starting manifest, DBA as its variant), two seeds each, a few CPU
steps on the engine. The reference values are read here straight from each run's
``metrics.jsonl`` (the last evaluation's ``val_loss``), and the report's comparison is
checked against Welch's formula written out in the search tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.store.runs import RunStore
from caramba.processes.development.tree import (
    Goal, MetricSummary, Node, Tree, diff_manifests, unexplained_numbers, write_report)
from caramba.processes.development.tree.provenance import store_mismatches
from tests.memory.manifests import two_arms
from tests.processes.development.test_tree_search import welch_reference

torch.set_num_threads(1)
COSTS = {"personas": {"architect": {"usd": 0.002, "tokens": 1500}}, "compute": {"steps": 16, "gpu_hours": 0.0}}


def last_val_loss(run_dir: Path) -> float:
    """The reference: the last evaluation row's val_loss in the run's metrics.jsonl."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("kind") == "eval"][-1]["val_loss"]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Train both arms for real, then build the tree from the run store as the development loop does."""
    workspace = tmp_path_factory.mktemp("dev_ws")
    (workspace / "caramba.yml").write_text("memory:\n  record_runs: false\n")
    tree = Tree(goal=Goal(question="does DBA lower the loss?", metric="val_loss", direction="min", seeds=2))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workspace)
        for arm in ("gqa", "dba"):
            text = two_arms({arm: [(0, 4), (1, 4)]})
            (workspace / "nodes").mkdir(exist_ok=True)
            (workspace / "nodes" / f"{arm}.yml").write_text(text)
            result = CliRunner().invoke(app, ["run", f"nodes/{arm}.yml", "--target", arm])
            assert result.exit_code == 0, result.output
    runs = {arm: sorted(d for d in RunStore(workspace).root.iterdir() if d.name.startswith(arm)) for arm in ("gqa", "dba")}
    manifests = {arm: yaml.safe_load((workspace / "nodes" / f"{arm}.yml").read_text()) for arm in runs}
    tree.add(Node(manifest="nodes/gqa.yml"))
    tree.add(Node(parent="n0", iteration=1, manifest="nodes/dba.yml", diff=diff_manifests(manifests["gqa"], manifests["dba"])))
    for node_id, arm in (("n0", "gqa"), ("n1", "dba")):
        if node_id == "n1":
            tree.update(node_id, status="piloting")
        tree.update(node_id, status="running")
        ids = [d.name for d in runs[arm]]
        values = [last_val_loss(d) for d in runs[arm]]
        tree.update(node_id, status="done", run_ids=ids, metrics={"val_loss": MetricSummary.of(values, ids)})
    return {"workspace": workspace, "tree": tree, "runs": runs}


def test_report_numbers_are_the_run_stores(session: dict[str, Any]) -> None:
    tree, workspace, runs = session["tree"], session["workspace"], session["runs"]
    assert store_mismatches(tree, workspace) == []
    text = write_report(tree, workspace, COSTS).read_text()
    assert unexplained_numbers(text, tree, COSTS) == []
    gqa, dba = ([last_val_loss(d) for d in runs[arm]] for arm in ("gqa", "dba"))
    diff, low, high, p = welch_reference(gqa, dba)
    if sum(dba) < sum(gqa):  # the variant is best: the evidence line, from the reference, with its run ids
        assert f"improvement {-diff:.4g} (95% CI {-high:.4g} to {-low:.4g}, Welch p = {p:.4g};" in text
        assert ", ".join(f"`{d.name}`" for d in runs["dba"]) in text
        assert "- `targets.0.system.config.model.topology.layers.0.layers.1.mode: gqa -> decoupled`" in text
    else:
        assert "No variant beat the starting manifest `n0`" in text and f"improvement {-diff:.4g}" in text
    assert tree.nodes["n1"].diff[0].path == "targets.0.name" and len(tree.nodes["n1"].diff) == 5


def test_a_value_that_is_not_the_run_stores_is_found(session: dict[str, Any]) -> None:
    tree, workspace = session["tree"].model_copy(deep=True), session["workspace"]
    summary = tree.nodes["n1"].metrics["val_loss"]
    tampered = MetricSummary.of([summary.values[0] + 0.01, summary.values[1]], summary.run_ids)
    tree.update("n1", metrics={"val_loss": tampered})
    tree.update("n0", metrics={"val_loss": tree.nodes["n0"].metrics["val_loss"].model_copy(update={"mean": 9.0})})
    problems = store_mismatches(tree, workspace)
    assert len(problems) == 2
    assert problems[0].startswith("n0.val_loss.mean is 9.0, but its values give")
    assert problems[1].startswith(f"n1.val_loss: the tree says {tampered.values[0]!r} for run {summary.run_ids[0]}")
