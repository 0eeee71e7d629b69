"""``linear_cross_entropy``: mean next-token cross-entropy of ``h @ weight.T`` without the logits.

    loss = linear_cross_entropy(h, weight, targets, ignore_index=-100, label_smoothing=0.0, z_loss=0.0)

h (N, D) hidden states, weight (V, D) the LM head, targets (N,). On CUDA when dispatched,
the fused chunked Triton path (``kernel.py``): peak memory one chunk of logits instead of
N × V. The PyTorch path materialises the logits and scores them in float32 with
``F.cross_entropy`` (plus λ·mean lse² for the z-loss) — the reference the kernel matches.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from caramba.kernels.dispatch import uses_triton


def linear_cross_entropy_torch(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int = -100,
                               label_smoothing: float = 0.0, z_loss: float = 0.0) -> Tensor:
    """The PyTorch path: logits (N, V), then ``F.cross_entropy`` in float32 and the z-loss."""
    logits = (h @ weight.to(h.dtype).T).float()
    loss = F.cross_entropy(logits, targets, ignore_index=ignore_index, label_smoothing=label_smoothing)
    if z_loss:
        keep = targets != ignore_index
        lse = torch.logsumexp(logits[keep], dim=-1)
        loss = loss + z_loss * lse.pow(2).sum() / keep.sum().clamp(min=1)
    return loss


def linear_cross_entropy(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int = -100,
                         label_smoothing: float = 0.0, z_loss: float = 0.0, chunk: int | None = None) -> Tensor:
    """Mean cross-entropy (+ z-loss) of the logits h·Wᵀ over targets ≠ ``ignore_index`` (module docstring).

    ``chunk`` fixes the rows per chunk of the fused path (default: ``kernel.default_chunk``).
    """
    if not 0.0 <= label_smoothing < 1.0 or z_loss < 0:
        raise ValueError(f"linear_cross_entropy: label_smoothing must be in [0, 1) and z_loss ≥ 0, "
                         f"got {label_smoothing} and {z_loss}")
    if uses_triton("linear_cross_entropy", h):
        return _fused(h, weight, targets, ignore_index, label_smoothing, z_loss, chunk)
    return linear_cross_entropy_torch(h, weight, targets, ignore_index, label_smoothing, z_loss)


def _fused(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int, label_smoothing: float, z_loss: float,
           chunk: int | None) -> Tensor:
    """The Triton path: the custom op, in autocast's dtype when autocast is on (as the head's Linear would be)."""
    from caramba.kernels.linear_cross_entropy.kernel import linear_cross_entropy_triton

    if torch.is_autocast_enabled(h.device.type):
        dtype = torch.get_autocast_dtype(h.device.type)
        h, weight = h.to(dtype), weight.to(dtype)
    return linear_cross_entropy_triton(h, weight, targets, ignore_index, label_smoothing, z_loss, chunk)
