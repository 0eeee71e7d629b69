"""``ParallelTopology`` and ``BranchingTopology``: several branches over the same input.

Parallel merges the branch outputs y_i = f_i(x) by Σ y_i, (1/n) Σ y_i or [y_1 ‖ … ‖ y_n]
(feature concat); Branching concatenates and projects: W [y_1 ‖ … ‖ y_n] (+ b).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class ParallelTopology(nn.Module):
    """Branches on one input, merged by ``combine`` (sum | mean | concat)."""

    def __init__(self, layers: list[nn.Module], combine: str = "sum") -> None:
        super().__init__()
        if combine not in ("sum", "mean", "concat"):
            raise ValueError(f"unknown combine {combine!r}; use sum, mean or concat")
        self.layers, self.combine = nn.ModuleList(layers), combine

    def branches(self, x: Tensor, ctx: ForwardContext | None) -> list[Tensor]:
        """Each branch's output for input ``x``."""
        return [layer(x, ctx) for layer in self.layers]

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_in) → (…, d_out) with d_out the branch width (or the sum of widths for concat)."""
        outs = self.branches(x, ctx)
        if self.combine == "concat":
            return torch.cat(outs, dim=-1)
        total = torch.stack(outs).sum(0)
        return total / len(outs) if self.combine == "mean" else total


class BranchingTopology(ParallelTopology):
    """Branches concatenated on the feature dim, then a linear projection to ``d_out``."""

    def __init__(self, layers: list[nn.Module], d_concat: int, d_out: int, bias: bool = False) -> None:
        super().__init__(layers, combine="concat")
        self.proj = nn.Linear(d_concat, d_out, bias=bias)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_in) → (…, d_out)."""
        return self.proj(torch.cat(self.branches(x, ctx), dim=-1))
