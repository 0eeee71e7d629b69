"""``TransformerModel``: token embedder → topology → next-token logits (or, given targets, their loss)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.embedding import TokenEmbedder
from caramba.kernels.linear_cross_entropy import linear_cross_entropy


class TransformerModel(nn.Module):
    """A language model over token ids; the topology's last layer is the head.

    ``forward(ids, ctx)`` returns logits (B, T, vocab); ``forward(ids, ctx, targets=…)``
    returns their mean cross-entropy with the head fused into the loss (the logits never
    exist). The loss is computed *inside* ``forward`` so that a wrapper's forward runs
    around it: DDP's reducer and FSDP2's weight-gathering hooks see the whole computation.
    With ``tie_embeddings`` the head (the last ``LinearLayer``) shares the embedding
    table's weight.
    """

    def __init__(self, embedder: dict[str, Any], topology: nn.Module, tie_embeddings: bool = False) -> None:
        super().__init__()
        self.embedder = TokenEmbedder(**{k: v for k, v in embedder.items() if k != "type"})
        self.topology = topology
        self.vocab_size = embedder["vocab_size"]
        if tie_embeddings:
            head = _last_linear(topology)
            head.proj.weight = self.embedder.table.weight

    def example_inputs(self, batch_size: int, seq_len: int) -> tuple[Tensor, ...]:
        """Inputs of the right shape and dtype for ``forward`` (used by the dry run on meta)."""
        return (torch.zeros(batch_size, seq_len, dtype=torch.long),)

    def forward(self, ids: Tensor, ctx: ForwardContext | None = None, targets: Tensor | None = None,
                ignore_index: int = -100) -> Tensor:
        """(B, T) token ids → (B, T, vocab) logits; with ``targets`` (B, T), the scalar mean
        cross-entropy over targets ≠ ``ignore_index`` through the fused head + loss
        (``kernels.linear_cross_entropy``; the head must have no bias)."""
        if targets is None:
            return self.topology(self.embedder(ids, ctx), ctx)
        hidden, head = self.features(ids, ctx if ctx is not None else ForwardContext())
        if head.bias is not None:
            raise ValueError("the fused head + cross-entropy supports a head without bias; set the head's bias: false")
        return linear_cross_entropy(hidden.reshape(-1, hidden.shape[-1]), head.weight, targets.reshape(-1),
                                    ignore_index=ignore_index)

    def features(self, ids: Tensor, ctx: ForwardContext) -> tuple[Tensor, nn.Linear]:
        """(B, T) ids → (the head's input (B, T, d), the head's ``nn.Linear``), logits not computed.

        For objectives that fuse the head with their loss. Raises RuntimeError when the
        head (the topology's last ``LinearLayer``) is not the topology's final operation.
        """
        head = _last_linear(self.topology)
        ctx.head, ctx.features = head, None
        try:
            out = self.topology(self.embedder(ids, ctx), ctx)
        finally:
            ctx.head = None
        if ctx.features is None or out is not ctx.features:
            raise RuntimeError("the fused head + loss needs the topology's last LinearLayer to be its final operation; "
                               "this topology transforms the head's output further")
        return out, head.proj


def _last_linear(module: nn.Module) -> Any:
    from caramba.engine.model.layers.linear import LinearLayer

    last = [m for m in module.modules() if isinstance(m, LinearLayer)]
    if not last:
        raise ValueError("tie_embeddings needs a LinearLayer head at the end of the topology")
    return last[-1]
