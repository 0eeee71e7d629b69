"""The weight (and bias) gradient of the norms, a column reduction shared by ``rms_norm`` and ``layer_norm``.

    dg = Σ_rows dy ⊙ ĥ,   db = Σ_rows dy,   ĥ = (h − μ) · rstd   (μ = 0 for RMSNorm)

Kept apart from the row-wise dx kernel so that both run fully parallel: dx with one row
per program (like the forward), this with a grid of column blocks × row slices, each
program stepping through its slice ``BLOCK_M`` rows at a time and writing float32 partial
sums that PyTorch adds up. It re-reads dy and h (two more passes over M × N), which costs
less than serialising the row kernel on a shared accumulator.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import next_power_of_2


@triton.jit
def _norm_weight_grad_kernel(DY, H, MEAN, RSTD, DW, DB, stride_dy, stride_h, M, N, rows_per_program,
                             HAS_MEAN: tl.constexpr, HAS_BIAS: tl.constexpr, BLOCK_M: tl.constexpr,
                             BLOCK_N: tl.constexpr):
    cols = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    split = tl.program_id(1)
    col_mask = cols < N
    dw = tl.zeros([BLOCK_N], dtype=tl.float32)
    db = tl.zeros([BLOCK_N], dtype=tl.float32)
    first = split * rows_per_program
    for start in range(first, first + rows_per_program, BLOCK_M):
        rows = start + tl.arange(0, BLOCK_M)
        row_mask = rows < M
        mask = row_mask[:, None] & col_mask[None, :]
        r = rows.to(tl.int64)[:, None]
        dy = tl.load(DY + r * stride_dy + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        h = tl.load(H + r * stride_h + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        if HAS_MEAN:
            h = h - tl.load(MEAN + rows, mask=row_mask, other=0.0)[:, None]
        dw += tl.sum(dy * h * tl.load(RSTD + rows, mask=row_mask, other=0.0)[:, None], axis=0)
        if HAS_BIAS:
            db += tl.sum(dy, axis=0)
    tl.store(DW + split * N + cols, dw, mask=col_mask)
    if HAS_BIAS:
        tl.store(DB + split * N + cols, db, mask=col_mask)


def norm_weight_grads(dy: Tensor, h: Tensor, mean: Tensor | None, rstd: Tensor,
                      bias: bool) -> tuple[Tensor, Tensor | None]:
    """(dg, db or None) in float32 for row-major dy, h (M, N) and per-row float32 mean/rstd."""
    m, n = h.shape
    block_n, block_m = min(256, next_power_of_2(n)), 32
    col_blocks = triton.cdiv(n, block_n)
    target = torch.cuda.get_device_properties(h.device).multi_processor_count * 4 if h.is_cuda else 4
    per_program = triton.cdiv(triton.cdiv(m, max(1, target // col_blocks)), block_m) * block_m
    splits = triton.cdiv(m, per_program)
    dw = torch.empty((splits, n), dtype=torch.float32, device=h.device)
    db = torch.empty((splits, n), dtype=torch.float32, device=h.device) if bias else dw
    _norm_weight_grad_kernel[(col_blocks, splits)](dy, h, mean if mean is not None else rstd, rstd, dw, db,
                                                   dy.stride(0), h.stride(0), m, n, per_program,
                                                   HAS_MEAN=mean is not None, HAS_BIAS=bias, BLOCK_M=block_m,
                                                   BLOCK_N=block_n, num_warps=8)
    return dw.sum(0), (db.sum(0) if bias else None)
