"""``apples_to_apples: true``: every run of the manifest must be scientifically comparable.

Runs must share the data, the token budget, the precision and device, and the evaluation
protocol (verify gates, benchmarks, eval settings). Non-deterministic autotuning
(torch.compile autotune, cuDNN benchmark) is switched off by the engine for such
manifests; here the compiler refuses anything that would make runs incomparable.
"""

from __future__ import annotations

from typing import Any

from caramba.engine.compiler.checks import Issue
from caramba.engine.manifest import Manifest


def _signature(target: Any, run: Any) -> dict[str, Any]:
    train = run.train
    return {
        "data": target.data.model_dump(),
        "token budget": run.steps * train.batch_size * train.block_size * train.gradient_accumulation_steps,
        "precision": (train.dtype, train.use_amp, train.amp_dtype if train.use_amp else None),
        "device": train.device,
        "evaluation protocol": (run.verify.model_dump() if run.verify else None, [b.model_dump() for b in target.benchmarks]),
    }


def check_comparability(manifest: Manifest) -> list[Issue]:
    """Compare every run against the first; name each property that differs."""
    if not manifest.apples_to_apples:
        return []
    issues: list[Issue] = []
    reference: tuple[str, dict[str, Any]] | None = None
    for t_index, target in enumerate(manifest.targets):
        if target.type != "experiment":
            continue
        for r_index, run in enumerate(target.runs):
            signature = _signature(target, run)
            if reference is None:
                reference = (f"{target.name}/{run.id}", signature)
                if run.train.device == "auto":
                    issues.append(Issue(("targets", t_index, "runs", r_index, "train", "device"),
                                        "device auto may resolve differently between runs", "name the device (cpu, cuda) explicitly"))
                continue
            for key, value in signature.items():
                if value != reference[1][key]:
                    issues.append(Issue(("targets", t_index, "runs", r_index),
                                        f"{key} differs from run {reference[0]} ({value!r} vs {reference[1][key]!r})",
                                        f"apples_to_apples requires the same {key} in every run; align it or set apples_to_apples: false"))
    return issues
