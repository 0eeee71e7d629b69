"""The objective contract: how a model's output on a batch becomes a loss.

Objectives know their task's batch layout and how to call the model; the trainer only
moves batches to the device and steps the optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from torch import Tensor, nn


@dataclass
class ObjectiveResult:
    """A loss to back-propagate plus what to log.

    Attributes:
        loss: scalar tensor (main loss + weighted auxiliary losses).
        metrics: values to log (``loss`` and e.g. ``aux_loss``, ``accuracy``): floats or
            0-d tensors. Prefer detached tensors: the trainer reads them on the host only
            once per log interval, so a tensor costs no device synchronisation per step.
        count: units the loss averages over (tokens, samples or nodes), for throughput
            and token-weighted averaging.
    """

    loss: Tensor
    metrics: dict[str, float | Tensor] = field(default_factory=dict)
    count: int = 0


class Objective(Protocol):
    """Constructed from the objective component's config fields (flat kwargs)."""

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """Forward ``batch`` through ``model`` (in the current grad mode) and score it."""
        ...
