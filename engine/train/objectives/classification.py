"""``objective.classification_ce``: cross-entropy of ``model(inputs)`` (B, C) against
class ids ``targets`` (B,), plus weighted auxiliary losses; logs accuracy."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.train.objective import ObjectiveResult


def with_aux(loss: Tensor, ctx: ForwardContext, weight: float, metrics: dict[str, float | Tensor]) -> Tensor:
    """``loss + weight · Σ aux`` (MoE balance and the like), logging ``aux_loss``."""
    aux = ctx.aux_loss()
    if aux is None:
        return loss
    metrics["aux_loss"] = aux.detach()
    return loss + weight * aux


class ClassificationObjective:
    """Mean cross-entropy over the batch's examples."""

    def __init__(self, aux_weight: float = 0.01, label_smoothing: float = 0.0) -> None:
        self.aux_weight, self.label_smoothing = aux_weight, label_smoothing

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """Forward ``inputs``; score logits (B, C) against ``targets`` (B,)."""
        ctx = ForwardContext()
        logits = model(batch["inputs"], ctx).float()
        targets = batch["targets"]
        ce = F.cross_entropy(logits, targets, label_smoothing=self.label_smoothing)
        metrics: dict[str, float | Tensor] = {"ce": ce.detach(), "accuracy": (logits.argmax(-1) == targets).float().mean().detach()}
        return ObjectiveResult(loss=with_aux(ce, ctx, self.aux_weight, metrics), metrics=metrics, count=targets.numel())
