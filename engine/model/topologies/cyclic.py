"""``CyclicTopology``: one weight-shared block applied ``n_cycles`` times,
x → f(f(…f(x))) (Universal Transformer, Dehghani et al., 2019; looped transformers).

Depth grows without parameters; the block must preserve the width.
"""

from __future__ import annotations

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class CyclicTopology(nn.Module):
    """Apply the stacked ``layers`` (built once) ``n_cycles`` times."""

    def __init__(self, layers: list[nn.Module], n_cycles: int = 2) -> None:
        super().__init__()
        self.layers, self.n_cycles = nn.ModuleList(layers), n_cycles

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d) → (…, d)."""
        for _ in range(self.n_cycles):
            for layer in self.layers:
                x = layer(x, ctx)
        return x
