"""``DenseCache``: one cached tensor stored as fp32/fp16/bf16 in a growing buffer.

The buffer has shape (B, H, capacity, D); appending T tokens writes the slice
[n, n+T) along the sequence axis. Capacity is allocated up front when known (generation
knows prompt + new tokens) and otherwise doubles, so appending is amortised O(T) instead
of the O(n) copy of a ``torch.cat`` per step.
"""

from __future__ import annotations

import torch
from torch import Tensor


def grown(buffer: Tensor | None, template: Tensor, needed: int, capacity: int | None) -> Tensor:
    """A buffer shaped like ``template`` (B, H, ·, W) with room for ``needed`` tokens, old content kept."""
    have = 0 if buffer is None else buffer.shape[2]
    if needed <= have:
        return buffer  # type: ignore[return-value]
    size = max(needed, capacity or 0, 2 * have)
    fresh = torch.empty(*template.shape[:2], size, *template.shape[3:], dtype=template.dtype, device=template.device)
    if buffer is not None:
        fresh[:, :, :have] = buffer
    return fresh


class DenseCache:
    """A cached tensor in a dense dtype (``DENSE_DTYPES``)."""

    def __init__(self, dtype: torch.dtype, capacity: int | None = None) -> None:
        self.dtype, self.capacity = dtype, capacity
        self.buffer: Tensor | None = None
        self.length = 0

    def append(self, x: Tensor) -> Tensor:
        """Append x (B, H, T, D); return the whole history (B, H, n+T, D) in x's dtype."""
        n, t = self.length, x.shape[2]
        self.buffer = grown(self.buffer, x.to(self.dtype)[:, :, :0], n + t, self.capacity)
        self.buffer[:, :, n:n + t] = x
        self.length = n + t
        return self.buffer[:, :, :self.length].to(x.dtype)

    def nbytes(self) -> int:
        """Bytes of the stored tokens (the used slice of the real buffer)."""
        if self.buffer is None:
            return 0
        return self.buffer[:, :, :self.length].numel() * self.buffer.element_size()

    def allocated_nbytes(self) -> int:
        """Bytes of the whole allocated buffer (used + spare capacity)."""
        return 0 if self.buffer is None else self.buffer.numel() * self.buffer.element_size()
