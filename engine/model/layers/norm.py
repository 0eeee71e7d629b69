"""Normalisation layers: RMSNorm (Zhang & Sennrich, 2019) and LayerNorm (Ba et al., 2016)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class RMSNormLayer(nn.Module):
    """y = x / sqrt(mean(x²) + eps) · g, computed in float32 and cast back.

    On the CPU, PyTorch's fused ``F.rms_norm`` is the fast path.
    """

    def __init__(self, d_model: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        return nn.functional.rms_norm(x.float(), (x.shape[-1],), self.weight.float(), self.eps).to(x.dtype)


class LayerNormLayer(nn.Module):
    """y = (x − mean(x)) / sqrt(var(x) + eps) · g + b over the last dimension (Ba et al., 2016).

    The GPT-2 / ViT normalisation; ``F.layer_norm`` is the fused path.
    """

    def __init__(self, d_model: int, eps: float = 1e-5, bias: bool = True) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model)) if bias else None

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        return nn.functional.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)
