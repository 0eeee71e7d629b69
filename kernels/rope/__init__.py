"""``rope``: rotary position embedding of q and k, as the attention layers call it.

    q, k = rope(q, k, cos, sin)   # q (B, H, T, D), k (B, H_kv, T, D); cos/sin (T, D/2) float32

On CUDA when dispatched, the Triton kernel rotates q and k **in place** for eager
inference (they must not be needed unrotated afterwards; the layers' projections are
not) and returns them; with autograd or inside ``torch.compile`` it returns new tensors
(the custom op ``caramba::rope``), as the PyTorch path does. Both compute the rotation in float32 (see ``kernel.py``).
``tables(inv_freq, start, length)`` builds cos/sin for positions start … start+length−1.
"""

from __future__ import annotations

import torch
from torch import Tensor

from caramba.kernels.dispatch import uses_triton


def tables(inv_freq: Tensor, start: int | Tensor, length: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """cos, sin (length, D/2) of angle p·θᵢ for positions p = start … start+length−1.

    In float32, or float64 when ``inv_freq`` is (a model cast to float64 keeps its precision).
    ``start`` may be a one-element device tensor (a static decode step captured in a CUDA graph).
    """
    dtype = torch.promote_types(inv_freq.dtype, torch.float32)
    positions = torch.arange(length, device=device, dtype=dtype) + (
        start.to(dtype) if isinstance(start, Tensor) else start)
    angles = torch.outer(positions, inv_freq.to(device=device, dtype=dtype))
    return angles.cos(), angles.sin()


def rope_torch(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """The PyTorch path for one tensor: (x₁cos − x₂sin, x₂cos + x₁sin) in float32 (float64 stays float64)."""
    half = x.shape[-1] // 2
    compute = torch.promote_types(x.dtype, torch.float32)
    x1, x2 = x[..., :half].to(compute), x[..., half:].to(compute)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)


def rope(q: Tensor, k: Tensor, cos: Tensor, sin: Tensor) -> tuple[Tensor, Tensor]:
    """Rotate q and k by their positions' angles (module docstring); ``k is q`` is rotated once."""
    if k is q:
        rotated = rope_one(q, cos, sin)
        return rotated, rotated
    return rope_one(q, cos, sin), rope_one(k, cos, sin)


def rope_one(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate one (B, H, T, D) tensor: in place for eager inference on the Triton path, else a new tensor."""
    if uses_triton("rope", x):
        from caramba.kernels.rope.kernel import rope_triton, rotate

        if not torch.compiler.is_compiling() and not (torch.is_grad_enabled() and x.requires_grad):
            return rotate(x, x, cos.float().contiguous(), sin.float().contiguous())
        return rope_triton(x, cos, sin)
    return rope_torch(x, cos, sin)
