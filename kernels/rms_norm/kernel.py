"""RMSNorm with an optional fused residual add, forward and backward in Triton.

Math (Zhang & Sennrich, 2019, "Root Mean Square Layer Normalization"), per row of width N:

    h = x + r                       (r optional; h is rounded to x's dtype, as the unfused add)
    rstd = 1 / sqrt(Σ h² / N + eps)
    y = h · rstd · g                (computed in float32, stored in x's dtype)

Backward, with ĥ = h · rstd and u = dy ⊙ g:

    dh = rstd · (u − ĥ · Σ(u ⊙ ĥ) / N)  (+ the gradient arriving at the returned h)
    dg = Σ_rows dy ⊙ ĥ

The forward keeps one row per program; the backward runs about four programs per
multiprocessor, each stepping through its rows a tile of ``BLOCK_M`` rows at a time (so
several rows' loads are in flight) and writing one float32 partial of dg that PyTorch
sums (the partial-sum shape of Liger-Kernel's ``_rms_norm_backward_kernel``; the code
here is ours).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import row_config, row_split, tile_config


@triton.jit
def _rms_norm_forward_kernel(X, R, H, Y, W, RSTD, stride_x, stride_r, stride_h, stride_y, N, eps,
                             HAS_RESIDUAL: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    h = tl.load(X + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    if HAS_RESIDUAL:
        h += tl.load(R + row * stride_r + cols, mask=mask, other=0.0).to(tl.float32)
        rounded = h.to(H.dtype.element_ty)
        tl.store(H + row * stride_h + cols, rounded, mask=mask)
        h = rounded.to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(h * h, axis=0) / N + eps)
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(Y + row * stride_y + cols, (h * rstd * w).to(Y.dtype.element_ty), mask=mask)
    tl.store(RSTD + row, rstd)


@triton.jit
def _rms_norm_backward_kernel(DY, DH, H, W, RSTD, DX, DW, stride_dy, stride_dh, stride_h, stride_dx, M, N,
                              rows_per_program, HAS_DH: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    col_mask = cols < N
    w = tl.load(W + cols, mask=col_mask, other=0.0).to(tl.float32)[None, :]
    dw = tl.zeros([BLOCK], dtype=tl.float32)
    first = pid * rows_per_program
    for start in range(first, first + rows_per_program, BLOCK_M):
        rows = start + tl.arange(0, BLOCK_M)
        row_mask = rows < M
        mask = row_mask[:, None] & col_mask[None, :]
        r = rows.to(tl.int64)[:, None]
        dy = tl.load(DY + r * stride_dy + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        h = tl.load(H + r * stride_h + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        rstd = tl.load(RSTD + rows, mask=row_mask, other=0.0)[:, None]
        hhat = h * rstd
        u = dy * w
        dx = rstd * (u - hhat * (tl.sum(u * hhat, axis=1) / N)[:, None])
        if HAS_DH:
            dx += tl.load(DH + r * stride_dh + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        tl.store(DX + r * stride_dx + cols[None, :], dx.to(DX.dtype.element_ty), mask=mask)
        dw += tl.sum(dy * hhat, axis=0)
    tl.store(DW + pid * N + cols, dw, mask=col_mask)


def _rows(t: Tensor) -> Tensor:
    """(…, N) → (M, N) with unit stride along N (a copy only when the input is not row-major)."""
    t = t.reshape(-1, t.shape[-1])
    return t if t.stride(-1) == 1 else t.contiguous()


class RMSNormFunction(torch.autograd.Function):
    """Autograd wrapper: ``apply(x, weight, eps, residual)`` → (y, h); h is None without residual."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, eps: float, residual: Tensor | None) -> tuple[Tensor, Tensor | None]:
        shape, n = x.shape, x.shape[-1]
        block, warps = row_config(n, "rms_norm")
        x2 = _rows(x)
        m = x2.shape[0]
        y = torch.empty((m, n), dtype=x.dtype, device=x.device)
        rstd = torch.empty(m, dtype=torch.float32, device=x.device)
        if residual is not None:
            r2 = _rows(residual)
            h = torch.empty((m, n), dtype=x.dtype, device=x.device)
        else:
            r2, h = x2, x2
        _rms_norm_forward_kernel[(m,)](x2, r2, h, y, weight, rstd, x2.stride(0), r2.stride(0), h.stride(0), y.stride(0),
                                       n, eps, HAS_RESIDUAL=residual is not None, BLOCK=block, num_warps=warps)
        ctx.save_for_backward(h, weight, rstd)
        ctx.has_residual, ctx.shape = residual is not None, shape
        if residual is None:
            return y.view(shape), None
        return y.view(shape), h.view(shape)

    @staticmethod
    def backward(ctx, dy: Tensor, dh_out: Tensor | None) -> tuple[Tensor | None, ...]:
        h, weight, rstd = ctx.saved_tensors
        m, n = h.shape
        block, block_m, warps = tile_config(n, "rms_norm backward")
        dy2 = _rows(dy)
        dh2 = _rows(dh_out) if dh_out is not None else dy2
        dx = torch.empty((m, n), dtype=h.dtype, device=h.device)
        programs, per_program = row_split(h.device, m, block_m)
        dw = torch.empty((programs, n), dtype=torch.float32, device=h.device)
        _rms_norm_backward_kernel[(programs,)](dy2, dh2, h, weight, rstd, dx, dw, dy2.stride(0), dh2.stride(0),
                                               h.stride(0), dx.stride(0), m, n, per_program,
                                               HAS_DH=dh_out is not None, BLOCK_M=block_m, BLOCK=block,
                                               num_warps=warps)
        dx = dx.view(ctx.shape)
        dweight = dw.sum(0).to(weight.dtype)
        return dx, dweight, None, (dx if ctx.has_residual else None)
