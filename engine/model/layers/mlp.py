"""Plain two-layer MLPs: the GPT-2 / ViT feed-forward, and the diffusion denoising head."""

from __future__ import annotations

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.elementwise import activation


class MLPLayer(nn.Module):
    """y = W_down(act(W_up x + b_up)) + b_down (Vaswani et al., 2017); GPT-2 uses gelu_tanh."""

    def __init__(self, d_model: int, d_ff: int, activation: str = "gelu", bias: bool = True) -> None:
        super().__init__()
        self.up = nn.Linear(d_model, d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)
        self.act = _act(activation)

    def residual_outputs(self) -> list[nn.Parameter]:
        """The down projection writes into the residual stream (scaled by the gpt2 init)."""
        return [self.down.weight]

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        return self.down(self.act(self.up(x)))


def _act(name: str) -> "nn.Module":
    from caramba.engine.model.layers.elementwise import ActivationLayer

    activation(name)  # fail fast on an unknown name
    return ActivationLayer(name)


class DenoisingHeadLayer(nn.Module):
    """LayerNorm then a zero-initialised linear map to the data width.

    Zero init (as in DiT, Peebles & Xie, 2023) makes the untrained denoiser predict ε̂ = 0,
    a stable start whose loss is E‖ε‖²/d = 1.
    """

    def __init__(self, d_model: int, d_out: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.proj = nn.Linear(d_model, d_out)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def fixed_init_parameters(self) -> list[nn.Parameter]:
        """The zero-initialised projection is the point of this head: no scheme redraws it."""
        return [self.proj.weight, self.proj.bias]

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_out)."""
        return self.proj(self.norm(x))
