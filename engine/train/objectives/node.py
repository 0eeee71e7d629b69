"""``objective.node_ce``: transductive node classification (Kipf & Welling, 2017).

The model sees the whole graph, ``model(inputs (N, F), edge_index (2, E))`` → (N, C);
only the nodes of the batch's ``mask`` (the split) are scored."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.train.objective import ObjectiveResult
from caramba.engine.train.objectives.classification import with_aux


class NodeObjective:
    """Cross-entropy and accuracy over the masked nodes."""

    def __init__(self, aux_weight: float = 0.01) -> None:
        self.aux_weight = aux_weight

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """Forward the graph; score the split's nodes."""
        ctx = ForwardContext()
        logits = model(batch["inputs"], batch["edge_index"], ctx).float()
        mask, targets = batch["mask"], batch["targets"]
        ce = F.cross_entropy(logits[mask], targets[mask])
        accuracy = (logits[mask].argmax(-1) == targets[mask]).float().mean()
        metrics: dict[str, float | Tensor] = {"ce": ce.detach(), "accuracy": accuracy.detach()}
        return ObjectiveResult(loss=with_aux(ce, ctx, self.aux_weight, metrics), metrics=metrics, count=int(mask.sum()))
