"""``layer_norm``: the entry the layers call — Triton kernel on CUDA when dispatched, else PyTorch.

    y, h = layer_norm(x, weight, bias, eps, residual=r)   # h = x + r, the new residual stream
    y, _ = layer_norm(x, weight, None, eps)

The PyTorch path is ``F.layer_norm`` (in x's dtype, as ``nn.LayerNorm``); the kernel
computes in float32 and stores x's dtype. See ``kernel.py`` for the math.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from caramba.kernels.dispatch import uses_triton


def layer_norm_torch(x: Tensor, weight: Tensor, bias: Tensor | None, eps: float,
                     residual: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """The PyTorch path: the residual add in x's dtype, then fused ``F.layer_norm``."""
    h = x + residual if residual is not None else x
    return F.layer_norm(h, (h.shape[-1],), weight, bias, eps), (h if residual is not None else None)


def layer_norm(x: Tensor, weight: Tensor, bias: Tensor | None, eps: float,
               residual: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """LayerNorm of ``x`` (+ ``residual``) over the last dimension; returns (y, x + residual or None)."""
    if uses_triton("layer_norm", x):
        from caramba.kernels.layer_norm.kernel import layer_norm_triton

        return layer_norm_triton(x, weight, bias, eps, residual)
    return layer_norm_torch(x, weight, bias, eps, residual)
