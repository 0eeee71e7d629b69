"""RMSNorm with an optional fused residual add, forward and backward in Triton.

Math (Zhang & Sennrich, 2019, "Root Mean Square Layer Normalization"), per row of width N:

    h = x + r                       (r optional; h is rounded to x's dtype, as the unfused add)
    rstd = 1 / sqrt(Σ h² / N + eps)
    y = h · rstd · g                (computed in float32, stored in x's dtype)

Backward, with ĥ = h · rstd and u = dy ⊙ g:

    dh = rstd · (u − ĥ · Σ(u ⊙ ĥ) / N)  (+ the gradient arriving at the returned h)
    dg = Σ_rows dy ⊙ ĥ

The forward keeps one row per program; the backward runs a fixed number of programs per
multiprocessor, each looping over its rows and writing one float32 partial of dg that
PyTorch sums (``kernels/norm_backward.py``, shared with ``layer_norm``).
Two alternatives were measured slower on an H200 at 16384 × 4096 and dropped: stepping
through 4-row tiles (0.425 ms fwd+bwd against this version's 0.31–0.33), and a row-parallel
dx kernel plus a separate column reduction for dg (0.35–0.43 ms; see docs/measurements.md).

Both passes are ``torch.library`` custom ops (``caramba::rms_norm``, ``caramba::rms_norm_backward``)
with fake (shape-only) implementations and an autograd rule, so ``torch.compile`` holds
each as one node of its graph instead of splitting the graph around an autograd Function.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import row_config
from caramba.kernels.norm_backward import WeightPartials, row_span, rows, store_partial


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
                              rows_per_program, HAS_DH: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
    dw = tl.zeros([BLOCK], dtype=tl.float32)
    first, last = row_span(pid, rows_per_program, M)
    for row in range(first, last):
        row64 = tl.cast(row, tl.int64)
        dy = tl.load(DY + row64 * stride_dy + cols, mask=mask, other=0.0).to(tl.float32)
        h = tl.load(H + row64 * stride_h + cols, mask=mask, other=0.0).to(tl.float32)
        rstd = tl.load(RSTD + row64)
        hhat = h * rstd
        u = dy * w
        dx = rstd * (u - hhat * (tl.sum(u * hhat, axis=0) / N))
        if HAS_DH:
            dx += tl.load(DH + row64 * stride_dh + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(DX + row64 * stride_dx + cols, dx.to(DX.dtype.element_ty), mask=mask)
        dw += dy * hhat
    store_partial(DW, pid, N, cols, dw, mask)


@torch.library.custom_op("caramba::rms_norm", mutates_args=())
def rms_norm_forward(x: Tensor, weight: Tensor, residual: Tensor | None, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(y, h, rstd): y and h in x's shape and dtype, rstd (M,) float32; h is empty without ``residual``.

    A custom op never returns an alias of its input, so without a residual h (which is x)
    is not returned: the autograd rule saves x itself.
    """
    shape, n = x.shape, x.shape[-1]
    block, warps = row_config(n, "rms_norm")
    x2 = rows(x)
    m = x2.shape[0]
    y = torch.empty((m, n), dtype=x.dtype, device=x.device)
    rstd = torch.empty(m, dtype=torch.float32, device=x.device)
    r2 = rows(residual) if residual is not None else x2
    h = torch.empty((m, n) if residual is not None else (0,), dtype=x.dtype, device=x.device)
    _rms_norm_forward_kernel[(m,)](x2, r2, h if residual is not None else x2, y, weight, rstd, x2.stride(0),
                                   r2.stride(0), n, y.stride(0), n, eps, HAS_RESIDUAL=residual is not None,
                                   BLOCK=block, num_warps=warps)  # h's row stride is n (unused without residual)
    return y.view(shape), (h.view(shape) if residual is not None else h), rstd


@rms_norm_forward.register_fake
def _(x: Tensor, weight: Tensor, residual: Tensor | None, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    rows_ = x.numel() // x.shape[-1]
    h = torch.empty_like(x, memory_format=torch.contiguous_format) if residual is not None else x.new_empty(0)
    return (torch.empty_like(x, memory_format=torch.contiguous_format), h,
            x.new_empty(rows_, dtype=torch.float32))


@torch.library.custom_op("caramba::rms_norm_backward", mutates_args=())
def rms_norm_backward(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, rstd: Tensor) -> tuple[Tensor, Tensor]:
    """(dx, dweight) from the gradients at y and (optionally) at the returned h; dx in h's shape."""
    h2 = rows(h)
    m, n = h2.shape
    block, warps = row_config(n, "rms_norm backward")
    dy2 = rows(dy)
    dh2 = rows(dh) if dh is not None else dy2
    dx = torch.empty((m, n), dtype=h.dtype, device=h.device)
    partials = WeightPartials.make(h2, 1)
    _rms_norm_backward_kernel[(partials.programs,)](dy2, dh2, h2, weight, rstd, dx, *partials.buffers,
                                                    dy2.stride(0), dh2.stride(0), h2.stride(0), dx.stride(0), m, n,
                                                    partials.rows_per_program, HAS_DH=dh is not None,
                                                    BLOCK=block, num_warps=warps)
    (dweight,) = partials.sums(weight.dtype)
    return dx.view(h.shape), dweight


@rms_norm_backward.register_fake
def _(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, rstd: Tensor) -> tuple[Tensor, Tensor]:
    return torch.empty_like(h, memory_format=torch.contiguous_format), torch.empty_like(weight)


def _setup(ctx, inputs: tuple, output: tuple) -> None:
    x, weight, residual, _ = inputs
    _, h, rstd = output
    ctx.save_for_backward(h if residual is not None else x, weight, rstd)
    ctx.has_residual = residual is not None


def _backward(ctx, dy: Tensor, dh: Tensor | None, _drstd: Tensor | None) -> tuple[Tensor | None, ...]:
    h, weight, rstd = ctx.saved_tensors
    dx, dweight = torch.ops.caramba.rms_norm_backward(dy, dh if ctx.has_residual else None, h, weight, rstd)
    return dx, dweight, (dx if ctx.has_residual else None), None


rms_norm_forward.register_autograd(_backward, setup_context=_setup)


def rms_norm_triton(x: Tensor, weight: Tensor, eps: float, residual: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """RMSNorm of x (+ residual) through the Triton kernels; returns (y, h) with h None without residual.

    Dispatched as the custom op ``torch.ops.caramba.rms_norm`` (autograd: ``rms_norm_backward``),
    so a ``torch.compile`` graph holds it as one node without breaking.
    """
    y, h, _ = torch.ops.caramba.rms_norm(x, weight, residual, eps)
    return y, (h if residual is not None else None)
