"""Normalisation layers: RMSNorm (Zhang & Sennrich, 2019)."""

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
