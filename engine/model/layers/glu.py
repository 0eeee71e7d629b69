"""Gated MLPs: SwiGLU (Shazeer, 2020, "GLU Variants Improve Transformer")."""

from __future__ import annotations

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class SwiGLULayer(nn.Module):
    """y = W_down(silu(W_gate x) ⊙ W_up x); the Llama MLP."""

    def __init__(self, d_model: int, d_ff: int, bias: bool = False) -> None:
        super().__init__()
        self.gate = nn.Linear(d_model, d_ff, bias=bias)
        self.up = nn.Linear(d_model, d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        return self.down(nn.functional.silu(self.gate(x)) * self.up(x))
