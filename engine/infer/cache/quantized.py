"""``QuantizedCache``: one cached tensor stored as q8_0/q4_0 blocks plus an exact recent window.

Layout (B batch, H heads, D head width, b block size, R residual window):

* codes  (B, H, capacity, D) int8 for q8, (B, H, capacity, D/2) uint8 for q4;
* scales (B, H, capacity, D/b) float16;
* window (B, H, ≤R, D) in the compute dtype: the R most recent tokens, exact.

Appending T tokens puts them at the end of the window; whatever no longer fits in the
window (the oldest tokens) is quantised into the code buffer. The history returned to
attention is [dequantise(codes[:n]), window] along the sequence axis, in the compute dtype
(the PyTorch path). ``push`` appends without reading anything back, for the fused decode
kernel (``kernels.kv_decode``), which reads codes, scales and window where they lie.
"""

from __future__ import annotations

import torch
from torch import Tensor

from caramba.engine.infer.cache.dense import grown
from caramba.engine.infer.cache.quant import check_block, dequantize, quantize


class QuantizedCache:
    """A cached tensor in ``q8`` or ``q4`` with an optional full-precision residual window."""

    def __init__(self, kind: str, block_size: int, residual_window: int = 0, capacity: int | None = None,
                 where: str = "a layer") -> None:
        self.kind, self.block_size, self.window_size = kind, block_size, residual_window
        self.capacity, self.where = capacity, where
        self.codes: Tensor | None = None
        self.scales: Tensor | None = None
        self.window: Tensor | None = None
        self.quantised = 0

    @property
    def length(self) -> int:
        """Tokens held (quantised + window)."""
        return self.quantised + (0 if self.window is None else self.window.shape[2])

    def append(self, x: Tensor) -> Tensor:
        """Append x (B, H, T, D); return the whole history (B, H, n+T, D) in x's dtype."""
        self.push(x)
        if self.codes is None or self.scales is None:
            return self.window  # type: ignore[return-value]  (everything still fits in the window)
        n = self.quantised
        past = dequantize(self.codes[:, :, :n], self.scales[:, :, :n], self.kind, self.block_size, x.dtype)
        return past if self.window is None else torch.cat([past, self.window], dim=2)

    def push(self, x: Tensor) -> None:
        """Append x (B, H, T, D): the oldest tokens past the window are quantised, nothing is returned."""
        if self.codes is None:
            check_block(self.kind, x.shape[-1], self.block_size, self.where)
        recent = x if self.window is None else torch.cat([self.window, x], dim=2)   # (B, H, w+T, D)
        overflow = max(recent.shape[2] - self.window_size, 0)
        if overflow:
            self._store(recent[:, :, :overflow])
        self.window = recent[:, :, overflow:].clone() if self.window_size else None

    def _store(self, x: Tensor) -> None:
        codes, scales = quantize(x, self.kind, self.block_size)
        n, t = self.quantised, x.shape[2]
        capacity = None if self.capacity is None else max(self.capacity - self.window_size, t)
        self.codes = grown(self.codes, codes[:, :, :0], n + t, capacity)
        self.scales = grown(self.scales, scales[:, :, :0], n + t, capacity)
        self.codes[:, :, n:n + t] = codes
        self.scales[:, :, n:n + t] = scales
        self.quantised = n + t

    def nbytes(self) -> int:
        """Bytes of the stored tokens: codes + scales of the quantised part, plus the exact window."""
        total = 0
        if self.codes is not None and self.scales is not None:
            n = self.quantised
            total += self.codes[:, :, :n].numel() * self.codes.element_size()
            total += self.scales[:, :, :n].numel() * self.scales.element_size()
        if self.window is not None:
            total += self.window.numel() * self.window.element_size()
        return total

    def allocated_nbytes(self) -> int:
        """Bytes allocated (spare capacity of the code/scale buffers included)."""
        return sum(t.numel() * t.element_size() for t in (self.codes, self.scales, self.window) if t is not None)
