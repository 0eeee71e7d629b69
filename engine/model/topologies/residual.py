"""``ResidualTopology``: x + f(x) (He et al., 2016), the pre-norm transformer block shape."""

from __future__ import annotations

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class ResidualTopology(nn.Module):
    """x + f(x), with f the child layers applied in sequence (width-preserving)."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """Add the branch output to the input."""
        h = x
        for layer in self.layers:
            h = layer(h, ctx)
        return x + h
