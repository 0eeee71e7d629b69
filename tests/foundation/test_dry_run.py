"""The dry run: its numbers agree with the model the engine really builds."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.compiler import compile_manifest
from caramba.engine.model.build import build_system
from caramba.engine.plan import dry_run
from pathlib import Path

PRESETS = Path(__file__).resolve().parents[2] / "presets"


def test_complete_example_parameter_count_matches_built_model() -> None:
    compiled = compile_manifest(PRESETS / "complete_example.yml")
    (plan,) = dry_run(compiled)
    target = compiled.manifest.targets[0]
    model = build_system(target.system.ref, target.system.config)
    real = sum(p.numel() for p in model.parameters())
    assert plan.params_total == real
    assert sum(row.params for row in plan.layers if "." not in row.name or row.type != "token") >= real - 1
    attention = [row for row in plan.layers if row.type == "AttentionLayer"]
    assert len(attention) == 2 and all(row.params == 4 * 64 * 64 for row in attention)


def test_dry_run_costs_are_consistent() -> None:
    compiled = compile_manifest(PRESETS / "complete_example.yml")
    (plan,) = dry_run(compiled)
    (run,) = plan.runs
    assert run.tokens == 1000 * 8 * 64
    # forward FLOPs/token ≈ 2 × (matmul parameters) + attention scores; backward ≈ 2 × forward
    matmul_params = plan.params_total - 256 * 64 - sum(r.params for r in plan.layers if r.type == "RMSNormLayer")
    assert 2 * matmul_params <= run.flops_per_token["forward"] <= 2 * matmul_params * 1.3
    assert abs(run.flops_per_token["backward"] / run.flops_per_token["forward"] - 2.0) < 0.05
    assert run.memory_bytes["weights"] == plan.params_total * 4
    assert run.memory_bytes["optimizer"] == plan.params_trainable * 8
    # standard attention caches 2 · d_model values per token per layer
    assert plan.kv_bytes_per_token["fp16"] == 2 * 2 * 64 * 2


def test_dry_run_allocates_nothing() -> None:
    compiled = compile_manifest(PRESETS / "complete_example.yml", ["vars.d_model=4096", "vars.n_heads=32", "vars.d_ff=16384", "vars.n_layers=32"])
    (plan,) = dry_run(compiled)
    assert plan.params_total > 6_000_000_000 // 1000  # big on paper …
    assert plan.runs[0].memory_bytes["total"] > 1e9  # … and planned, while nothing was allocated


def test_dry_run_cli_json(data_workspace: Path) -> None:
    result = CliRunner().invoke(app, ["run", "complete_example", "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (target,) = data["targets"]
    assert target["target"] == "full_pipeline" and target["params_total"] > 0
    assert target["runs"][0]["phases"][0].startswith("train 1000 steps")
    assert "attention" in target["kernel_paths"]
    assert target["resolved"]["system"]["config"]["model"]["embedder"]["d_model"] == 64


def test_dry_run_names_the_run_whose_device_this_machine_lacks() -> None:
    """A run asking for a device the machine does not have gets a note naming that run and target
    (not a fixed ``targets[0].runs[0]`` that may point at another run)."""
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: a cuda run is not refused here")
    compiled = compile_manifest(PRESETS / "complete_example.yml", ["targets[0].runs[0].train.device=cuda",
                                                                    "targets[0].runs[0].train.use_amp=false"])
    (plan,) = dry_run(compiled)
    run_id = compiled.manifest.targets[0].runs[0].id
    notes = [n for n in plan.notes if "asks for device 'cuda'" in n]
    assert notes and f"in run {run_id!r} of target {plan.target!r}" in notes[0], plan.notes
    assert "targets[0].runs[0].train.device=auto" not in notes[0]
