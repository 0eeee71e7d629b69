"""Every verify type passes and fails on constructed cases; fail_fast decides how many gates run."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from caramba.engine.compiler import compile_manifest
from caramba.engine.manifest.verify import CompareVerify, EvalVerify, FidelityVerify
from caramba.engine.run import build
from caramba.engine.train.objectives import NextTokenObjective
from caramba.engine.verify import VerifyContext, run_verify
from tests.train.manifests import tiny


def _parts() -> tuple[nn.Module, object]:
    compiled = compile_manifest(tiny())
    target = compiled.manifest.targets[0]
    run = target.runs[0]
    return build.build_model(target, run), build.build_dataset(target, run, compiled.manifest.defaults, Path.cwd())


def _ctx(student: nn.Module, reference: nn.Module | None, dataset: object, kind: str = "teacher") -> VerifyContext:
    return VerifyContext(student, reference, kind, NextTokenObjective(), dataset, 4, 32, torch.device("cpu"),
                         contextlib.nullcontext, Path.cwd())


def _perturbed(model: nn.Module, scale: float) -> nn.Module:
    other = copy.deepcopy(model)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn_like(p) * scale)
    return other


def test_compare_passes_on_identical_models_and_fails_on_perturbed_ones() -> None:
    teacher, data = _parts()
    config = CompareVerify(batches=2, fail_fast=False, attention={"max_mean_l1": 1e-6, "max_max_l1": 1e-5},
                           logits={"max_mean_l1": 1e-6, "max_max_l1": 1e-5})
    same = run_verify(config, _ctx(copy.deepcopy(teacher), teacher, data))
    assert same.passed and len(same.gates) == 4 and same.measurements["attention_layers"] == 2
    different = run_verify(config, _ctx(_perturbed(teacher, 0.1), teacher, data))
    assert not different.passed and len(different.gates) == 4 and len(different.reasons) == 4
    assert "attention.mean_l1" in different.reasons[0]
    fast = run_verify(config.model_copy(update={"fail_fast": True}), _ctx(_perturbed(teacher, 0.1), teacher, data))
    assert not fast.passed and len(fast.gates) == 1 and fast.stopped_early


def test_fidelity_delta_nll_and_ppl_ratio_gates() -> None:
    model, data = _parts()
    ok = run_verify(FidelityVerify(batches=2, max_delta_nll=1e-6, max_ppl_ratio=1.0001), _ctx(model, copy.deepcopy(model), data))
    assert ok.passed and abs(ok.measurements["delta_nll"]) < 1e-6
    worse = _perturbed(model, 0.5)
    bad = run_verify(FidelityVerify(batches=2, max_delta_nll=0.0, max_ppl_ratio=1.0, fail_fast=False), _ctx(worse, model, data))
    assert not bad.passed and [g.name for g in bad.gates] == ["delta_nll", "ppl_ratio"]
    assert bad.measurements["ppl_ratio"] > 1.0
    with pytest.raises(ValueError, match="reference"):
        run_verify(FidelityVerify(max_delta_nll=0.0), _ctx(model, None, data))


class Successor(nn.Module):
    """Predicts token ``(last + shift) % 256`` at every position (a model with known answers)."""

    def __init__(self, shift: int = 1) -> None:
        super().__init__()
        self.shift = shift
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, ids: Tensor, ctx: object = None) -> Tensor:
        return nn.functional.one_hot((ids + self.shift) % 256, 256).float() * 10 + self.dummy


CASES = [
    {"id": "int", "prompt": "1", "answer": 234, "kind": "int_greedy"},
    {"id": "text", "prompt": "a", "answer": "bcd", "kind": "exact_match"},
    {"id": "ids", "prompt": [10, 11], "answer": [12, 13], "kind": "exact_match"},
    {"id": "choice", "prompt": "x", "choices": ["z", "y"], "answer": "y", "kind": "choice_logprob"},
]


def test_eval_cases_pass_and_fail_by_kind() -> None:
    _, data = _parts()
    config = EvalVerify(cases=CASES, max_new_tokens=3, thresholds={"min_student_accuracy": 1.0, "max_accuracy_drop": 0.0},
                        fail_fast=False)
    good = run_verify(config, _ctx(Successor(1), Successor(1), data))
    assert good.passed, good.to_json()
    assert [c["passed"] for c in good.measurements["cases"]] == [True, True, True, True]
    int_only = config.model_copy(update={"max_new_tokens": 1, "cases": config.cases[:1]})
    assert run_verify(int_only, _ctx(Successor(1), Successor(1), data)).measurements["cases"][0]["output"] == "2"  # 1 token
    bad = run_verify(config, _ctx(Successor(2), Successor(1), data))
    assert not bad.passed
    assert bad.measurements["student_accuracy"] == 0.0 and bad.measurements["reference_accuracy"] == 1.0
    assert [g.name for g in bad.gates] == ["student_accuracy", "accuracy_drop"] and len(bad.reasons) == 2
