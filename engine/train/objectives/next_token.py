"""``objective.next_token_ce``: cross-entropy of each position's logits against the next token.

The batch carries ``inputs`` (B, T) and ``targets`` (B, T) already shifted by one
(``dataset.tokens`` and the synthetic tasks produce them that way), so the objective is
a plain token-level cross-entropy; targets equal to ``ignore_index`` contribute nothing
(the synthetic tasks use that to score only the answer positions). Auxiliary losses
that layers append to ``ForwardContext.aux_losses`` (MoE load balancing) are added with
weight ``aux_weight``. Logits are scored in float32 whatever the compute dtype.

When the kernel dispatch runs ``linear_cross_entropy`` on Triton (CUDA) and the model can
fuse its head with the loss (a ``TransformerModel``, also inside DDP's wrapper or
torch.compile's; a head without bias), the objective asks the model's *forward* for the
loss (``model(inputs, ctx, targets=…)``): the logits are never materialised
(``kernels.linear_cross_entropy``, chunked; same loss and gradients), and the call still
goes through the wrapper's forward — DDP's reducer and FSDP2's ``fully_shard`` hooks,
which gather the sharded weights, run as for any forward. Otherwise the model's logits
are scored as above.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch._dynamo.eval_frame import OptimizedModule
from torch.nn.parallel import DistributedDataParallel

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.systems.transformer import TransformerModel
from caramba.engine.train.objective import ObjectiveResult
from caramba.kernels.dispatch import uses_triton


class NextTokenObjective:
    """Mean next-token cross-entropy over the scored positions, plus weighted auxiliary losses."""

    def __init__(self, aux_weight: float = 0.01, ignore_index: int = -100) -> None:
        self.aux_weight, self.ignore_index = aux_weight, ignore_index

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """Forward ``inputs`` and score the logits (B, T, V) against ``targets`` (B, T)."""
        ctx = ForwardContext()
        targets = batch["targets"]
        if fuses_head(model) and uses_triton("linear_cross_entropy", batch["inputs"]):
            ce = model(batch["inputs"], ctx, targets=targets, ignore_index=self.ignore_index)
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


def fuses_head(model: nn.Module) -> bool:
    """Whether ``model`` — under any DDP (``.module``) or torch.compile (``._orig_mod``)
    wrappers — is a ``TransformerModel``, whose forward takes ``targets`` and returns the
    fused loss (an FSDP2-sharded one is still one: ``fully_shard`` subclasses it)."""
    while isinstance(model, (DistributedDataParallel, OptimizedModule)):
        model = model.module if isinstance(model, DistributedDataParallel) else model._orig_mod
    return isinstance(model, TransformerModel)
