"""The development loop with the ADK-level scripted model (fast coverage), on the real engine.

One iteration on a tiny transformer trained on Python's stdlib source:
a variant that fails validation is fixed in its proposer's next turn, a variant with a
huge learning rate diverges in its pilot and is pruned before any full run, the best
variant beats the starting manifest with a confidence interval, the compute ledger stays
within the budget, and every number in the tree and the report is the run store's
(the replay is tested end to end through the CLI, ``test_litellm_e2e.py``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from caramba.processes import ProcessOptions, ProcessResult
from caramba.processes.development import DevelopmentConfig, load_start, replay_config, run_development
from tests.processes.development.conftest import GOAL, SCRIPT

BUDGET = 400  # steps; this session needs 48 + 2 × (5 + 48) + 5 = 159


def develop(workspace: Path, folder: Path, **options: object) -> ProcessResult:
    console = Console(file=open(folder.parent / f"{folder.name}.log", "w"), width=120)
    opts = ProcessOptions(workspace=workspace, output_dir=folder, console=console, **options)  # type: ignore[arg-type]
    if opts.replay is not None:
        config, opts = replay_config(opts)
    else:
        config = DevelopmentConfig(question=GOAL, start="tiny_lm.yml", start_text=load_start("tiny_lm.yml", workspace),
                                   seeds=3, iterations=1, patience=3, compute_steps=BUDGET, pilot_fraction=0.25)
    return run_development(config, opts)


@pytest.fixture(scope="module")
def session(workspace: Path) -> tuple[ProcessResult, dict]:
    result = develop(workspace, workspace / "dev", model=f"script:{SCRIPT}")
    return result, json.loads((workspace / "dev" / "tree.json").read_text())


def run_value(workspace: Path, run_id: str, metric: str = "val_loss") -> float:
    from caramba.engine.bench.compare.metrics import read_run

    return read_run(workspace / ".caramba" / "runs" / run_id).values[metric]


def test_fix_prune_and_a_better_best(session: tuple[ProcessResult, dict], workspace: Path) -> None:
    result, tree = session
    assert result.status == "completed", result.message
    nodes = tree["nodes"]
    assert max(n["iteration"] for n in nodes.values()) == 1 and len(nodes) == 5
    invalid = [n for n in nodes.values() if n["status"] == "invalid"]
    assert len(invalid) == 1 and "n_heads=3 does not divide d_model=32" in invalid[0]["reason"]
    fixed = [n for n in nodes.values() if n["fixed_from"] == invalid[0]["id"]]
    assert len(fixed) == 1 and fixed[0]["status"] == "done"
    pruned = [n for n in nodes.values() if n["status"] == "pruned"]
    assert len(pruned) == 1 and ("did not decrease" in pruned[0]["reason"] or "non-finite" in pruned[0]["reason"])
    assert pruned[0]["run_ids"] == [] and len(pruned[0]["pilot_run_ids"]) == 1  # never ran in full
    root, best = nodes[tree["root"]], min((n for n in nodes.values() if n["status"] == "done"),
                                         key=lambda n: n["metrics"]["val_loss"]["mean"])
    assert best["id"] != root["id"]
    b, r = best["metrics"]["val_loss"], root["metrics"]["val_loss"]
    assert b["n"] == 3 and b["ci_low"] is not None and b["ci_high"] < r["ci_low"]  # CIs apart: a clear win
    for node in nodes.values():  # every number in the tree is the run store's
        for summary in node["metrics"].values():
            assert summary["values"] == [run_value(workspace, i) for i in summary["run_ids"]]
            assert math.isclose(summary["mean"], sum(summary["values"]) / 3)


def test_compute_budget_is_never_exceeded(session: tuple[ProcessResult, dict], workspace: Path) -> None:
    state = json.loads((workspace / "dev" / "state.json").read_text())
    charged = state["data"]["charged"]
    assert sum(c["steps"] for c in charged.values()) <= BUDGET
    trained = 0
    for run_id in charged:  # what was charged is what the store trained, step for step
        status = json.loads((workspace / ".caramba" / "runs" / run_id / "status.json").read_text())
        trained += status["step"]
        assert status["step"] <= charged[run_id]["steps"]
    assert trained <= BUDGET


def test_outputs_are_written(session: tuple[ProcessResult, dict], workspace: Path) -> None:
    folder = workspace / "dev"
    for name in ("tree.json", "tree.md", "tree.png", "tree.pdf", "report.md", "transcript.md", "recording.jsonl"):
        assert (folder / name).is_file(), name
    assert (folder / "nodes" / "n0.yml").is_file()


def test_report_numbers_are_the_tree_s(session: tuple[ProcessResult, dict], workspace: Path) -> None:
    from caramba.processes.development.outputs import costs
    from caramba.processes.development.tree import Tree
    from caramba.processes.development.tree.report import unexplained_numbers
    from caramba.agents.runtime import SessionState

    folder = workspace / "dev"
    state = SessionState.open(folder, "development", json.loads((folder / "state.json").read_text())["config"])
    tree = Tree.load(folder / "tree.json")
    report = (folder / "report.md").read_text()
    assert unexplained_numbers(report, tree, costs(state, DevelopmentConfig.from_json(state.config))) == []
    best = tree.best()
    assert best is not None and all(run_id in report for run_id in best.metrics["val_loss"].run_ids)


def test_an_analysis_number_not_from_a_run_is_flagged() -> None:
    from caramba.processes.development.decide import grounded

    facts = "- n1 (from n0, architect): vars.lr: 0.002 -> 0.01 — done; val_loss 3.2081 (runs lm-full-s0-1)"
    assert grounded("n1 lowered val_loss to 3.2081 (lm-full-s0-1).", facts) == "n1 lowered val_loss to 3.2081 (lm-full-s0-1)."
    flagged = grounded("n1 lowered val_loss to 3.2081, a 27.45% gain.", facts)
    assert flagged.endswith("(unverified: 27.45 not among the measured results given to the analyst)")
