"""``Stepper``: one optimiser step — forward, backward, clip, update — on the fast path.

Per step it runs ``gradient_accumulation_steps`` micro-batches (the loss of each divided
by their count), unscales fp16 gradients, measures (and clips) the global gradient
norm, steps the optimiser and clears the gradients. Nothing here reads a value back to
the host: the loss and the norm stay device tensors for the ``Recorder`` — except with
``skip_nonfinite`` (``train.on_divergence: skip``), where each step reads back whether its
loss and gradient norm are finite and drops the update when not (``skipped``).

On CUDA with Triton the forward (model + objective) is wrapped in ``torch.compile``, as
capability detection decides (``engine/capabilities.py``) — logged once, never a
manifest flag; under ``apples_to_apples`` cuDNN autotuning is off and compile uses its
default (non-autotuning) mode. The CPU runs eager, PyTorch's fast path there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.manifest.train import TrainConfig
from caramba.engine.train.objective import Objective
from caramba.engine.train.precision import Precision
from caramba.engine.train.seeding import seed_micro_batch


def use_compile(device: torch.device, apples_to_apples: bool, announce: Callable[[str], None]) -> bool:
    """Decide (and log) whether to compile, and set the CUDA math flags of the run."""
    from caramba.engine.capabilities import detect

    if device.type != "cuda":
        announce(f"torch.compile: off — eager PyTorch is the {device.type.upper()} fast path")
        return False
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = not apples_to_apples
    caps = detect()
    if caps.compile:
        announce("torch.compile: on (CUDA + Triton detected; mode=default" + (", no autotuning: apples_to_apples)" if apples_to_apples else ")"))
        return True
    announce("torch.compile: off — Triton is not available on this CUDA machine (eager)")
    return False


class Stepper:
    """Forward/backward/update of one run (see the module docstring)."""

    def __init__(self, model: nn.Module, objective: Objective, optimizer: torch.optim.Optimizer, precision: Precision,
                 train: TrainConfig, compile_model: bool, skip_nonfinite: bool = False,
                 sync: Callable[[bool], AbstractContextManager[Any]] | None = None) -> None:
        self.model, self.objective, self.optimizer, self.precision = model, objective, optimizer, precision
        # Distributed runs pass the strategy's gradient-sync context (DDP: reduce on the last micro-batch only).
        self.sync = sync or (lambda _last: contextlib.nullcontext())
        self.clip = train.grad_clip
        self.skip_nonfinite, self.skipped = skip_nonfinite, False
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.forward: Callable[[dict[str, Tensor]], tuple[Tensor, dict[str, Any], int]] = (
            torch.compile(self._forward) if compile_model else self._forward)

    def _forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Any], int]:
        result = self.objective(self.model, batch)
        return result.loss, result.metrics, result.count

    def step(self, batches: list[dict[str, Tensor]], seeds: list[int] | None = None) -> tuple[Tensor, Tensor, dict[str, Any], int]:
        """One optimiser step over the micro-batches; returns (mean loss, grad norm, metrics, count).

        ``seeds``: one per micro-batch; torch's generators are reseeded with it before its
        forward (``seeding.seed_micro_batch``), so its dropout masks depend on which rows it is."""
        scaler, n = self.precision.scaler, len(batches)
        total: Tensor | None = None
        metrics: dict[str, Any] = {}
        count = 0
        for index, batch in enumerate(batches):
            if seeds is not None:
                seed_micro_batch(seeds[index], next(iter(batch.values())).device)
            with self.sync(index == n - 1):
                with self.precision.autocast():
                    loss, micro, micro_count = self.forward(batch)
                scaled = loss / n if n > 1 else loss
                (scaler.scale(scaled) if scaler is not None else scaled).backward()
            detached = loss.detach()
            total = detached if total is None else total + detached
            for key, value in micro.items():
                metrics[key] = metrics[key] + value if key in metrics else value
            count += int(micro_count)
        if scaler is not None:
            scaler.unscale_(self.optimizer)
        if self.clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(self.params, self.clip, foreach=True)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in self.params if p.grad is not None], foreach=True)
        assert total is not None  # at least one micro-batch (gradient_accumulation_steps ≥ 1)
        # With a loss scaler, inf gradients are the scaler's business (it skips and rescales).
        self.skipped = self.skip_nonfinite and not bool(
            torch.isfinite(total) if scaler is not None else torch.isfinite(total) & torch.isfinite(norm))
        if self.skipped:
            if scaler is not None:
                scaler.update()
        elif scaler is not None:
            scaler.step(self.optimizer)
            scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if n > 1:
            total = total / n
            metrics = {k: v / n for k, v in metrics.items()}
        return total, norm, metrics, count
