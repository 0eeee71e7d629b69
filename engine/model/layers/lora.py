"""``LoRALinearLayer``: low-rank adaptation of a frozen linear map (Hu et al., 2021).

    y = x Wᵀ + b + s · B(A(dropout(x))),   s = alpha / r

W (d_out × d_in) and b are frozen; A (r × d_in, Kaiming-uniform) and B (d_out × r, zeros)
train, so at step 0 the layer computes exactly the pretrained function. Only
r·(d_in + d_out) parameters train. ``merged()`` folds s·BA into W and returns a plain
:class:`LinearLayer` (no inference overhead); ``from_linear`` wraps a pretrained one.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.linear import LinearLayer


class LoRALinearLayer(nn.Module):
    """A frozen ``base`` linear plus a trainable rank-``r`` update scaled by ``alpha / r``."""

    def __init__(self, d_in: int, d_out: int, r: int = 8, alpha: float = 16.0, dropout: float = 0.0, bias: bool = False) -> None:
        super().__init__()
        self.base = nn.Linear(d_in, d_out, bias=bias)
        self.base.requires_grad_(False)
        self.lora_a = nn.Parameter(torch.empty(r, d_in))
        self.lora_b = nn.Parameter(torch.zeros(d_out, r))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / r
        self.dropout = nn.Dropout(dropout)

    def fixed_init_parameters(self) -> list[nn.Parameter]:
        """A (Kaiming) and B (zeros) make the update start at 0: no scheme redraws them."""
        return [self.lora_a, self.lora_b]

    @classmethod
    def from_linear(cls, linear: nn.Linear | LinearLayer, r: int = 8, alpha: float = 16.0, dropout: float = 0.0) -> "LoRALinearLayer":
        """Wrap a pretrained linear (its weight and bias are copied and frozen)."""
        inner = linear.proj if isinstance(linear, LinearLayer) else linear
        layer = cls(inner.in_features, inner.out_features, r, alpha, dropout, bias=inner.bias is not None)
        layer.to(device=inner.weight.device, dtype=inner.weight.dtype)
        with torch.no_grad():
            layer.base.weight.copy_(inner.weight)
            if inner.bias is not None:
                layer.base.bias.copy_(inner.bias)
        return layer

    def delta_weight(self) -> Tensor:
        """s · B A, the (d_out × d_in) update to W."""
        return self.scale * (self.lora_b @ self.lora_a)

    def merged(self) -> LinearLayer:
        """A plain LinearLayer computing the same function (W + s·BA, b)."""
        d_out, d_in = self.base.weight.shape
        out = LinearLayer(d_in, d_out, bias=self.base.bias is not None).to(self.base.weight.device, self.base.weight.dtype)
        with torch.no_grad():
            out.proj.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                out.proj.bias.copy_(self.base.bias)
        return out

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_in) → (…, d_out)."""
        update = nn.functional.linear(nn.functional.linear(self.dropout(x), self.lora_a), self.lora_b)
        return self.base(x) + self.scale * update


def merge_lora(module: nn.Module) -> nn.Module:
    """Replace every LoRALinearLayer inside ``module`` by its merged LinearLayer (in place)."""
    for name, child in list(module.named_children()):
        if isinstance(child, LoRALinearLayer):
            setattr(module, name, child.merged())
        else:
            merge_lora(child)
    return module
