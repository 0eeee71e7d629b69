"""Held-out loss: the mean objective loss over the first ``batches`` batches of a split.

Batches are the dataset's deterministic batches ``0 … batches−1`` of the split, so two
models (a student and its reference) are always scored on the same tokens. Runs in
eval mode without gradients, under the run's autocast. The mean is streamed (one running
sum) and every batch polls the cancel flag (``caramba.engine.cancel``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import Tensor, nn

from caramba.engine import cancel
from caramba.engine.data.base import Dataset, Split
from caramba.engine.train.objective import Objective


def to_device(batch: dict[str, Tensor], device: torch.device, pin: bool = False) -> dict[str, Tensor]:
    """Move a CPU batch to ``device`` (non-blocking; pinned first when asked, CUDA only)."""
    if device.type == "cpu":
        return batch
    return {k: (v.pin_memory() if pin else v).to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def mean_loss(model: nn.Module, objective: Objective, dataset: Dataset, split: Split, batches: int, batch_size: int,
              device: torch.device, autocast: Callable[[], AbstractContextManager[object]] | None = None) -> float | None:
    """Mean loss over batches ``0 … batches−1`` of ``split`` (None when the split is empty)."""
    if dataset.split_size(split) == 0:
        return None
    was_training = model.training
    model.eval()
    wide = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
    total = torch.zeros((), dtype=wide, device=device)  # streamed: memory does not grow with `batches`
    try:
        for index in range(batches):
            cancel.check(f"held-out evaluation (batch {index} of {batches})")
            batch = to_device(dataset.batch(split, index, batch_size), device)
            with autocast() if autocast is not None else nullcontext():
                total += objective(model, batch).loss.detach().to(wide)
    finally:
        model.train(was_training)
    return float(total.item()) / max(batches, 1)
