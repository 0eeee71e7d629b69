"""What the backward kernels of ``rms_norm`` and ``layer_norm`` share: the weight-gradient partials.

Both backward kernels run ``reduction_programs`` programs (a fixed number per multiprocessor),
each looping over a contiguous span of rows, accumulating its share of dg (and LayerNorm's
db) in float32 registers and writing it as one row of a (programs, N) buffer; the buffers
are summed over programs once at the end (Liger-Kernel's shape; the code here is ours):

    span   = row_span(pid, rows_per_program, M)           # in the kernel
    store_partial(DW, pid, N, cols, dw, mask)               # in the kernel
    partials = WeightPartials.make(h, count)                 # on the host, before the launch
    dweight, dbias = partials.sums(weight.dtype, bias_dtype) # on the host, after it
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import reduction_programs


def rows(t: Tensor) -> Tensor:
    """(…, N) → (M, N) with unit stride along N (a copy only when the input is not row-major)."""
    t = t.reshape(-1, t.shape[-1])
    return t if t.stride(-1) == 1 else t.contiguous()


@triton.jit
def row_span(pid, rows_per_program, M):
    """[first, last) rows of program ``pid``."""
    first = pid * rows_per_program
    return first, tl.minimum(first + rows_per_program, M)


@triton.jit
def store_partial(P, pid, N, cols, acc, mask):
    """Write program ``pid``'s float32 partial sum as row ``pid`` of the (programs, N) buffer P."""
    tl.store(P + pid * N + cols, acc, mask=mask)


@dataclass(frozen=True)
class WeightPartials:
    """The launch's program count, its rows per program and one float32 (programs, N) buffer per weight."""

    programs: int
    rows_per_program: int
    buffers: tuple[Tensor, ...]

    @classmethod
    def make(cls, h: Tensor, count: int) -> WeightPartials:
        """Buffers for ``count`` weights (1: dg; 2: dg, db) of a backward over the (M, N) rows ``h``."""
        m, n = h.shape
        programs = reduction_programs(h.device, m)
        buffers = tuple(torch.empty((programs, n), dtype=torch.float32, device=h.device) for _ in range(count))
        return cls(programs, triton.cdiv(m, programs), buffers)

    def sums(self, *dtypes: torch.dtype | None) -> tuple[Tensor | None, ...]:
        """Each buffer summed over programs, cast to its weight's dtype (None for an absent weight)."""
        return tuple(None if dtype is None else buffer.sum(0).to(dtype) for buffer, dtype in zip(self.buffers, dtypes))
