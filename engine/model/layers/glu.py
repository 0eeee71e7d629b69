"""Gated MLPs (Shazeer, 2020, "GLU Variants Improve Transformer"):

    y = W_down(act(W_gate x) ⊙ W_up x)

with act = SiLU (SwiGLU, the Llama MLP), GELU (GEGLU) or ReLU (ReGLU). SwiGLU and GEGLU
call the ``glu`` dispatch for act(gate) ⊙ up (one fused Triton kernel on CUDA when
capability detection chose it); ReGLU stays eager PyTorch.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.kernels.glu import glu


class GatedMLP(nn.Module):
    """y = W_down(act(W_gate x) ⊙ W_up x); subclasses fix ``act`` (and ``fused``, the
    activation's name in the ``glu`` dispatch, or None when it has no fused kernel)."""

    act: Callable[[Tensor], Tensor] = staticmethod(nn.functional.silu)
    fused: str | None = "silu"

    def __init__(self, d_model: int, d_ff: int, bias: bool = False) -> None:
        super().__init__()
        self.gate = nn.Linear(d_model, d_ff, bias=bias)
        self.up = nn.Linear(d_model, d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)

    def residual_outputs(self) -> list[nn.Parameter]:
        """The down projection writes into the residual stream (scaled by the gpt2 init)."""
        return [self.down.weight]

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        if self.fused is not None:
            return self.down(glu(self.gate(x), self.up(x), self.fused))
        return self.down(type(self).act(self.gate(x)) * self.up(x))


class SwiGLULayer(GatedMLP):
    """SwiGLU: act = SiLU (x·σ(x)); the Llama MLP."""

    act = staticmethod(nn.functional.silu)


class GEGLULayer(GatedMLP):
    """GEGLU: act = GELU."""

    act = staticmethod(nn.functional.gelu)
    fused = "gelu"


class ReGLULayer(GatedMLP):
    """ReGLU: act = ReLU."""

    act = staticmethod(nn.functional.relu)
    fused = None
