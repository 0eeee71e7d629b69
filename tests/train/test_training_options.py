"""Optimisers, schedules, accumulation, freezing, param groups, stopping rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from caramba.engine.compiler import compile_manifest
from caramba.engine.manifest.train import ScheduleConfig
from caramba.engine.run import execute
from caramba.engine.train.optim import Lion, Schedule
from tests.train.manifests import tiny


def _final_weights(record_dir: str) -> dict[str, torch.Tensor]:
    [last] = sorted((Path(record_dir) / "checkpoints").glob("step_*"))[-1:]
    return load_file(last / "model.safetensors")


@pytest.mark.parametrize("kind,expected", [("constant", [0.5, 1.0, 1.0]), ("linear", [0.5, 1.0, 0.1]),
                                           ("cosine", [0.5, 1.0, 0.1])])
def test_schedule_warmup_then_decay(kind: str, expected: list[float]) -> None:
    schedule = Schedule(ScheduleConfig(kind=kind, warmup_steps=2, min_lr_ratio=0.1), steps=12)
    assert [round(schedule.factor(s), 6) for s in (0, 2, 12)] == expected
    if kind == "cosine":
        assert math.isclose(schedule.factor(7), 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))


def test_lion_minimises_a_quadratic() -> None:
    x = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
    opt = Lion([x], lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        (x ** 2).sum().backward()
        opt.step()
    assert x.abs().max() < 0.1


def test_lion_sgd_accumulation_freeze_and_param_groups(workspace: Path) -> None:
    train = {"optimizer": "lion", "lr": 0.001, "weight_decay": 0.1, "gradient_accumulation_steps": 2,
             "freeze": ["^embedder\\."], "param_groups": [{"pattern": "o_proj", "lr": 0.0001}]}
    [record] = execute(compile_manifest(tiny(steps=4, train=train)), None, workspace)
    assert record.status == "succeeded", record.reasons
    from caramba.engine.run.build import build_model
    compiled = compile_manifest(tiny(steps=4, train=train))
    initial = build_model(compiled.manifest.targets[0], compiled.manifest.targets[0].runs[0]).state_dict()
    final = _final_weights(record.dir)
    assert torch.equal(final["embedder.table.weight"], initial["embedder.table.weight"])
    assert not torch.equal(final["topology.layers.0.layers.0.layers.1.q_proj.weight"],
                           initial["topology.layers.0.layers.0.layers.1.q_proj.weight"])
    [sgd] = execute(compile_manifest(tiny(steps=3, train={"optimizer": "sgd", "grad_clip": None})), None, workspace)
    assert sgd.status == "succeeded"


def test_unmatched_freeze_pattern_is_an_error(workspace: Path) -> None:
    with pytest.raises(ValueError, match="matches no parameter"):
        execute(compile_manifest(tiny(steps=2, train={"freeze": ["no_such_param"]})), None, workspace)


def test_convergence_and_early_stopping_end_the_run_early(workspace: Path) -> None:
    converge = {"convergence_target": 100.0, "convergence_patience": 3}
    [record] = execute(compile_manifest(tiny(steps=50, train=converge)), None, workspace)
    assert record.status == "succeeded" and record.step == 3
    early = {"early_stopping": {"metric": "val_loss", "patience": 2, "min_delta": 100.0}}
    defaults = {"logging": {"instrument": "plain", "eval_every": 5, "eval_iters": 1}}
    [record] = execute(compile_manifest(tiny(steps=50, train=early, defaults=defaults)), None, workspace)
    assert record.step == 15  # first eval sets the best; two stale evaluations stop it
    rows = [json.loads(line) for line in (Path(record.dir) / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "eval"][:3] == [5, 10, 15]
