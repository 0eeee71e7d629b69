"""``StackedTopology`` (and ``NestedTopology``, its repeated form): layers in sequence."""

from __future__ import annotations

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class StackedTopology(nn.Module):
    """x → f_n(…f_2(f_1(x))). ``NestedTopology`` builds here with its copies flattened."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """Apply each layer in order, passing ``ctx`` along."""
        for layer in self.layers:
            x = layer(x, ctx)
        return x
