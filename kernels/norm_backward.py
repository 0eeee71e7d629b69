"""What the backward kernels of ``rms_norm`` and ``layer_norm`` share: the weight-gradient partials.

Both backward kernels run ``reduction_programs`` programs (a fixed number per multiprocessor),
each looping over a contiguous span of rows, accumulating its share of dg (and LayerNorm's
db) in float32 registers and writing it as one row of a (programs, N) buffer; the buffers
(one allocation) are summed over programs once at the end (Liger-Kernel's shape; the code here is ours):

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
    """The launch's program count, its rows per program and one float32 (count, programs, N) buffer.

    Row ``i`` of the buffer (``buffers[i]``) holds weight ``i``'s partials. One buffer, one
    reduction and (when the weights share a dtype) one cast for dg and db together: each
    PyTorch call is host time the backward pays before the GPU sees its work.
    """

    programs: int
    rows_per_program: int
    stacked: Tensor

    @classmethod
    def make(cls, h: Tensor, count: int, per_sm: int = 4) -> WeightPartials:
        """The buffer for ``count`` weights (1: dg; 2: dg, db) of a backward over the (M, N) rows ``h``,
        launched as ``per_sm`` programs per multiprocessor (``reduction_programs``)."""
        m, n = h.shape
        programs = reduction_programs(h.device, m, per_sm)
        stacked = torch.empty((count, programs, n), dtype=torch.float32, device=h.device)
        return cls(programs, triton.cdiv(m, programs), stacked)

    @property
    def buffers(self) -> tuple[Tensor, ...]:
        """One (programs, N) view per weight, in the kernel's argument order."""
        return self.stacked.unbind(0)

    def sums(self, *dtypes: torch.dtype | None) -> tuple[Tensor | None, ...]:
        """Each weight's partials summed over programs, cast to its dtype (None for an absent weight)."""
        total = self.stacked.sum(1)
        present = {dtype for dtype in dtypes if dtype is not None}
        if len(present) == 1:  # one cast for all
            total = total.to(present.pop())
        return tuple(None if dtype is None else row.to(dtype) for row, dtype in zip(total.unbind(0), dtypes))
