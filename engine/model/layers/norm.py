"""Normalisation layers: RMSNorm (Zhang & Sennrich, 2019) and LayerNorm (Ba et al., 2016)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.kernels.layer_norm import layer_norm
from caramba.kernels.rms_norm import rms_norm


class RMSNormLayer(nn.Module):
    """y = x / sqrt(mean(x²) + eps) · g, computed in float32 and cast back.

    Calls the ``rms_norm`` dispatch: the Triton kernel on CUDA when capability detection
    chose it, else PyTorch's fused ``F.rms_norm`` (the CPU fast path).
    """

    def __init__(self, d_model: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        return rms_norm(x, self.weight, self.eps)[0]


class LayerNormLayer(nn.Module):
    """y = (x − mean(x)) / sqrt(var(x) + eps) · g + b over the last dimension (Ba et al., 2016).

    The GPT-2 / ViT normalisation; calls the ``layer_norm`` dispatch (Triton kernel on CUDA
    when chosen, else the fused ``F.layer_norm``).
    """

    def __init__(self, d_model: int, eps: float = 1e-5, bias: bool = True) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model)) if bias else None

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        return layer_norm(x, self.weight, self.bias, self.eps)[0]
