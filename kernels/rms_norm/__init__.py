"""``rms_norm``: the entry the layers call — Triton kernel on CUDA when dispatched, else PyTorch.

    y, h = rms_norm(x, weight, eps, residual=r)   # h = x + r, the new residual stream
    y, _ = rms_norm(x, weight, eps)

Both paths compute in float32 and return x's dtype (the PyTorch path is ``F.rms_norm`` on
the upcast input, the reference the kernel is tested against); see ``kernel.py`` for the math.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from caramba.kernels.dispatch import uses_triton


def rms_norm_torch(x: Tensor, weight: Tensor, eps: float, residual: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """The PyTorch path: the residual add in x's dtype, then fused ``F.rms_norm`` in float32."""
    h = x + residual if residual is not None else x
    y = F.rms_norm(h.float(), (h.shape[-1],), weight.float(), eps).to(x.dtype)
    return y, (h if residual is not None else None)


def rms_norm(x: Tensor, weight: Tensor, eps: float, residual: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """RMSNorm of ``x`` (+ ``residual``) over the last dimension; returns (y, x + residual or None)."""
    if uses_triton("rms_norm", x):
        from caramba.kernels.rms_norm.kernel import rms_norm_triton

        return rms_norm_triton(x, weight, eps, residual)
    return rms_norm_torch(x, weight, eps, residual)
