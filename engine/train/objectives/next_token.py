"""``objective.next_token_ce``: cross-entropy of each position's logits against the next token.

The batch carries ``inputs`` (B, T) and ``targets`` (B, T) already shifted by one
(``dataset.tokens`` and the synthetic tasks produce them that way), so the objective is
a plain token-level cross-entropy; targets equal to ``ignore_index`` contribute nothing
(the synthetic tasks use that to score only the answer positions). Auxiliary losses
that layers append to ``ForwardContext.aux_losses`` (MoE load balancing) are added with
weight ``aux_weight``. Logits are scored in float32 whatever the compute dtype.

When the kernel dispatch runs ``linear_cross_entropy`` on Triton (CUDA) and the model can
hand over its head's input (``TransformerModel.features``; a head without bias), the head
and the loss are fused: the logits are never materialised (``kernels.linear_cross_entropy``,
chunked; same loss and gradients). Otherwise the model's logits are scored as above — also
for a model sharded by FSDP2: ``features`` would skip the ``fully_shard`` hooks of the
model's forward that gather its sharded weights (DDP's wrapper has no ``features``, so a
DDP run takes this path too; the trainer says so in its log).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributed.fsdp import FSDPModule

from caramba.engine.model.context import ForwardContext
from caramba.engine.train.objective import ObjectiveResult
from caramba.kernels.dispatch import uses_triton
from caramba.kernels.linear_cross_entropy import linear_cross_entropy


class NextTokenObjective:
    """Mean next-token cross-entropy over the scored positions, plus weighted auxiliary losses."""

    def __init__(self, aux_weight: float = 0.01, ignore_index: int = -100) -> None:
        self.aux_weight, self.ignore_index = aux_weight, ignore_index

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """Forward ``inputs`` and score the logits (B, T, V) against ``targets`` (B, T)."""
        ctx = ForwardContext()
        targets = batch["targets"]
        fusable = hasattr(model, "features") and not isinstance(model, FSDPModule)
        if fusable and uses_triton("linear_cross_entropy", batch["inputs"]):
            hidden, head = model.features(batch["inputs"], ctx)
            if head.bias is not None:
                raise ValueError("the fused head + cross-entropy supports a head without bias; set the head's bias: false")
            ce = linear_cross_entropy(hidden.reshape(-1, hidden.shape[-1]), head.weight, targets.reshape(-1),
                                      ignore_index=self.ignore_index)
        else:
            logits = model(batch["inputs"], ctx)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                                 ignore_index=self.ignore_index)
        metrics: dict[str, float | Tensor] = {"ce": ce.detach()}
        loss = ce
        aux = ctx.aux_loss()
        if aux is not None:
            loss = loss + self.aux_weight * aux
            metrics["aux_loss"] = aux.detach()
        return ObjectiveResult(loss=loss, metrics=metrics, count=targets.numel())
