"""Static stores: one cached tensor in a buffer allocated once for the whole generation.

A static store never grows or moves: its buffers are (B, H, capacity, ·) from the start, so
a decode step always touches the same memory and can be captured in a CUDA graph. Writes
take either a host position (the eager prefill: a slice assignment) or a one-element device
tensor (a decode step: ``index_copy_``, or the fused ``kv_store`` kernel for q8/q4 on
CUDA), so the captured step reads its position where the previous replay left it.

* ``StaticDense``: fp32/fp16/bf16 values (B, H, capacity, D).
* ``StaticQuantized``: q8/q4 codes (B, H, capacity, D or D/2) and float16 scales
  (B, H, capacity, D/b), the rule of ``engine/infer/cache/quant.py``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from caramba.engine.infer.cache.quant import check_block, dequantize, quantize


class StaticDense:
    """A dense cached tensor with a fixed capacity."""

    kind = "dense"
    scales: Tensor | None = None

    def __init__(self, like: Tensor, dtype: torch.dtype, capacity: int) -> None:
        b, h, _, d = like.shape
        self.values = torch.zeros(b, h, capacity, d, dtype=dtype, device=like.device)

    def write(self, x: Tensor, position: int | Tensor) -> None:
        """Store x (B, H, T, D) at tokens position … position+T−1 (a device position: T = 1)."""
        if isinstance(position, Tensor):
            self.values.index_copy_(2, position, x.to(self.values.dtype))
        else:
            self.values[:, :, position:position + x.shape[2]] = x

    def history(self, length: int | None, dtype: torch.dtype) -> Tensor:
        """Tokens 0 … length−1 (None: the whole capacity) in ``dtype``."""
        return self.values[:, :, :length].to(dtype)

    @property
    def data(self) -> Tensor:
        """The tensor the decode kernel reads."""
        return self.values

    def nbytes(self, length: int) -> int:
        """Bytes of ``length`` stored tokens."""
        return self.values[:, :, :length].numel() * self.values.element_size()

    def allocated_nbytes(self) -> int:
        """Bytes of the whole buffer."""
        return self.values.numel() * self.values.element_size()


class StaticQuantized:
    """A q8/q4 cached tensor with a fixed capacity; ``fused_store`` writes decode steps through ``kv_store``."""

    def __init__(self, like: Tensor, kind: str, block_size: int, capacity: int, where: str, fused_store: bool) -> None:
        b, h, _, d = like.shape
        check_block(kind, d, block_size, where)
        self.kind, self.block_size, self.fused_store = kind, block_size, fused_store
        width = d // 2 if kind == "q4" else d
        code_dtype = torch.uint8 if kind == "q4" else torch.int8
        self.codes = torch.zeros(b, h, capacity, width, dtype=code_dtype, device=like.device)
        self.scales = torch.zeros(b, h, capacity, d // block_size, dtype=torch.float16, device=like.device)

    def write(self, x: Tensor, position: int | Tensor) -> None:
        """Quantise x (B, H, T, D) and store it at tokens position … position+T−1 (a device position: T = 1)."""
        if isinstance(position, Tensor) and self.fused_store:
            from caramba.kernels.kv_decode.store import kv_store

            kv_store(x, self.codes, self.scales, self.kind, self.block_size, position)
            return
        codes, scales = quantize(x, self.kind, self.block_size)
        if isinstance(position, Tensor):
            self.codes.index_copy_(2, position, codes)
            self.scales.index_copy_(2, position, scales)
        else:
            self.codes[:, :, position:position + x.shape[2]] = codes
            self.scales[:, :, position:position + x.shape[2]] = scales

    def history(self, length: int | None, dtype: torch.dtype) -> Tensor:
        """Tokens 0 … length−1 (None: the whole capacity) dequantised to ``dtype``."""
        return dequantize(self.codes[:, :, :length], self.scales[:, :, :length], self.kind, self.block_size, dtype)

    @property
    def data(self) -> Tensor:
        """The codes the decode kernel reads."""
        return self.codes

    def nbytes(self, length: int) -> int:
        """Bytes of ``length`` stored tokens (codes + scales)."""
        return sum(t[:, :, :length].numel() * t.element_size() for t in (self.codes, self.scales))

    def allocated_nbytes(self) -> int:
        """Bytes of the code and scale buffers."""
        return sum(t.numel() * t.element_size() for t in (self.codes, self.scales))


StaticStore = StaticDense | StaticQuantized
