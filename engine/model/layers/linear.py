"""``LinearLayer``: an affine projection, the head of most models."""

from __future__ import annotations

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class LinearLayer(nn.Module):
    """y = x Wᵀ + b over the last dimension (``d_in`` → ``d_out``)."""

    def __init__(self, d_in: int, d_out: int, bias: bool = False) -> None:
        super().__init__()
        self.proj = nn.Linear(d_in, d_out, bias=bias)

    @property
    def weight(self) -> nn.Parameter:
        """The projection weight (``d_out × d_in``), e.g. for tying with an embedding."""
        return self.proj.weight

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_in) → (…, d_out); as ``ctx.head``, x itself (kept in ``ctx.features``, see ForwardContext)."""
        if ctx is not None and ctx.head is self:
            ctx.features = x
            return x
        return self.proj(x)
