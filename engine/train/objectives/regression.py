"""``objective.mse``: mean squared error of ``model(inputs)`` against float ``targets``."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.train.objective import ObjectiveResult
from caramba.engine.train.objectives.classification import with_aux


class MSEObjective:
    """mean((model(inputs) − targets)²), plus weighted auxiliary losses."""

    def __init__(self, aux_weight: float = 0.01) -> None:
        self.aux_weight = aux_weight

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """Forward ``inputs``; compare with ``targets`` of the same shape."""
        ctx = ForwardContext()
        pred = model(batch["inputs"], ctx).float()
        mse = F.mse_loss(pred, batch["targets"].float())
        metrics: dict[str, float | Tensor] = {"mse": mse.detach()}
        return ObjectiveResult(loss=with_aux(mse, ctx, self.aux_weight, metrics), metrics=metrics, count=pred.shape[0])
