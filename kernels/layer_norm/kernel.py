"""LayerNorm with an optional fused residual add and optional bias, forward and backward in Triton.

Math (Ba et al., 2016, "Layer Normalization"), per row of width N:

    h = x + r                       (r optional; h is rounded to x's dtype, as the unfused add)
    μ = Σ h / N,  rstd = 1 / sqrt(Σ (h − μ)² / N + eps)
    y = (h − μ) · rstd · g + b      (float32 arithmetic, stored in x's dtype)

Backward, with ĥ = (h − μ) · rstd and u = dy ⊙ g:

    dh = rstd · (u − Σu / N − ĥ · Σ(u ⊙ ĥ) / N)  (+ the gradient arriving at the returned h)
    dg = Σ_rows dy ⊙ ĥ,   db = Σ_rows dy

Same launch shape as ``rms_norm``: one row per program forward; a fixed number of programs
per multiprocessor backward, each writing float32 partials of dg and db
(``kernels/norm_backward.py``, shared with ``rms_norm``). As in ``rms_norm``, two ways in
share the launches (``launch_forward``, ``launch_backward``): inside ``torch.compile`` the
``torch.library`` custom ops ``caramba::layer_norm`` / ``caramba::layer_norm_backward`` (fake
implementations and an autograd rule: one graph node each); eagerly ``LayerNormFunction``,
a plain autograd Function without the custom op's host overhead (see ``rms_norm/kernel.py``).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import row_config
from caramba.kernels.norm_backward import WeightPartials, row_span, rows, store_partial


@triton.jit
def _layer_norm_forward_kernel(X, R, H, Y, W, B, MEAN, RSTD, stride_x, stride_r, stride_h, stride_y, N, eps,
                               HAS_RESIDUAL: tl.constexpr, HAS_BIAS: tl.constexpr, STORE_STATS: tl.constexpr,
                               BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    h = tl.load(X + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)  # issued with x's load, not after the reductions
    if HAS_RESIDUAL:
        h += tl.load(R + row * stride_r + cols, mask=mask, other=0.0).to(tl.float32)
        rounded = h.to(H.dtype.element_ty)
        tl.store(H + row * stride_h + cols, rounded, mask=mask)
        h = rounded.to(tl.float32)
    mean = tl.sum(h, axis=0) / N
    centred = tl.where(mask, h - mean, 0.0)
    rstd = tl.rsqrt(tl.sum(centred * centred, axis=0) / N + eps)
    y = centred * rstd * w
    if HAS_BIAS:
        y += tl.load(B + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(Y + row * stride_y + cols, y.to(Y.dtype.element_ty), mask=mask)
    if STORE_STATS:
        tl.store(MEAN + row, mean)
        tl.store(RSTD + row, rstd)


@triton.jit
def _layer_norm_backward_kernel(DY, DH, H, W, MEAN, RSTD, DX, DW, DB, stride_dy, stride_dh, stride_h, stride_dx,
                                M, N, rows_per_program, HAS_DH: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
    dw = tl.zeros([BLOCK], dtype=tl.float32)
    db = tl.zeros([BLOCK], dtype=tl.float32)
    first, last = row_span(pid, rows_per_program, M)
    for row in range(first, last):
        row64 = tl.cast(row, tl.int64)
        dy = tl.load(DY + row64 * stride_dy + cols, mask=mask, other=0.0).to(tl.float32)
        h = tl.load(H + row64 * stride_h + cols, mask=mask, other=0.0).to(tl.float32)
        hhat = tl.where(mask, (h - tl.load(MEAN + row64)) * tl.load(RSTD + row64), 0.0)
        u = dy * w
        dx = tl.load(RSTD + row64) * (u - tl.sum(u, axis=0) / N - hhat * (tl.sum(u * hhat, axis=0) / N))
        if HAS_DH:
            dx += tl.load(DH + row64 * stride_dh + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(DX + row64 * stride_dx + cols, dx.to(DX.dtype.element_ty), mask=mask)
        dw += dy * hhat
        db += dy
    store_partial(DW, pid, N, cols, dw, mask)
    store_partial(DB, pid, N, cols, db, mask)


def launch_forward(x: Tensor, weight: Tensor, bias: Tensor | None, residual: Tensor | None, eps: float,
                   keep_stats: bool = True, warps: int | None = None) -> tuple[Tensor, Tensor | None, Tensor, Tensor]:
    """Run the forward kernel: (y, h, mean, rstd).

    h is None without ``residual``; mean and rstd are empty (not stored) without ``keep_stats``.
    ``warps`` overrides ``row_config``'s warp count (the benchmark's configuration sweep).
    """
    shape, n = x.shape, x.shape[-1]
    block, default_warps = row_config(n, "layer_norm")
    warps = warps or default_warps
    x2 = rows(x)
    m = x2.shape[0]
    y = torch.empty((m, n), dtype=x.dtype, device=x.device)
    mean = torch.empty(m if keep_stats else 0, dtype=torch.float32, device=x.device)
    rstd = torch.empty(m if keep_stats else 0, dtype=torch.float32, device=x.device)
    r2 = rows(residual) if residual is not None else x2
    h = torch.empty((m, n), dtype=x.dtype, device=x.device) if residual is not None else None
    _layer_norm_forward_kernel[(m,)](x2, r2, h if h is not None else x2, y, weight,
                                     bias if bias is not None else weight, mean, rstd,
                                     x2.stride(0), r2.stride(0), n, y.stride(0), n, eps,
                                     HAS_RESIDUAL=residual is not None, HAS_BIAS=bias is not None,
                                     STORE_STATS=keep_stats, BLOCK=block,
                                     num_warps=warps)  # h's row stride is n (unused without residual)
    return y.view(shape), (h.view(shape) if h is not None else None), mean, rstd


def launch_backward(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
                    bias_dtype: torch.dtype | None, per_sm: int = 4) -> tuple[Tensor, Tensor, Tensor | None]:
    """Run the backward kernel: (dx, dweight, dbias or None without a bias).

    ``per_sm``: programs per multiprocessor (the benchmark's configuration sweep; 4 ships).
    """
    h2 = rows(h)
    m, n = h2.shape
    block, warps = row_config(n, "layer_norm backward")
    dy2 = rows(dy)
    dh2 = rows(dh) if dh is not None else dy2
    dx = torch.empty((m, n), dtype=h.dtype, device=h.device)
    partials = WeightPartials.make(h2, 2, per_sm)
    _layer_norm_backward_kernel[(partials.programs,)](dy2, dh2, h2, weight, mean, rstd, dx, *partials.buffers,
                                                      dy2.stride(0), dh2.stride(0), h2.stride(0), dx.stride(0),
                                                      m, n, partials.rows_per_program, HAS_DH=dh is not None,
                                                      BLOCK=block, num_warps=warps)
    dweight, dbias = partials.sums(weight.dtype, bias_dtype)
    return dx.view(h.shape), dweight, dbias


@torch.library.custom_op("caramba::layer_norm", mutates_args=())
def layer_norm_forward(x: Tensor, weight: Tensor, bias: Tensor | None, residual: Tensor | None,
                       eps: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(y, h, mean, rstd): y, h in x's shape and dtype; mean, rstd (M,) float32; h empty without ``residual``.

    A custom op never returns an alias of its input, so without a residual h (which is x)
    is not returned: the autograd rule saves x itself.
    """
    y, h, mean, rstd = launch_forward(x, weight, bias, residual, eps)
    return y, (h if h is not None else x.new_empty(0)), mean, rstd


@layer_norm_forward.register_fake
def _(x: Tensor, weight: Tensor, bias: Tensor | None, residual: Tensor | None,
      eps: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    rows_ = x.numel() // x.shape[-1]
    h = torch.empty_like(x, memory_format=torch.contiguous_format) if residual is not None else x.new_empty(0)
    stats = x.new_empty(rows_, dtype=torch.float32)
    return torch.empty_like(x, memory_format=torch.contiguous_format), h, stats, torch.empty_like(stats)


@torch.library.custom_op("caramba::layer_norm_backward", mutates_args=())
def layer_norm_backward(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
                        bias_dtype: torch.dtype | None) -> tuple[Tensor, Tensor, Tensor]:
    """(dx, dweight, dbias) from the gradients at y and (optionally) at h; dbias is empty without a bias."""
    dx, dweight, dbias = launch_backward(dy, dh, h, weight, mean, rstd, bias_dtype)
    # dweight and dbias are rows of one reduced buffer; a custom op's outputs may not alias each other
    return dx, dweight, (dbias.clone() if dbias is not None else weight.new_empty(0))


@layer_norm_backward.register_fake
def _(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
      bias_dtype: torch.dtype | None) -> tuple[Tensor, Tensor, Tensor]:
    dbias = weight.new_empty(weight.shape, dtype=bias_dtype) if bias_dtype is not None else weight.new_empty(0)
    return torch.empty_like(h, memory_format=torch.contiguous_format), torch.empty_like(weight), dbias


def _save(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, residual: Tensor | None, h: Tensor | None, mean: Tensor,
          rstd: Tensor) -> None:
    """What both backward paths need: the normalised input (h, or x without residual), g, mean, rstd."""
    ctx.save_for_backward(h if residual is not None else x, weight, mean, rstd)
    ctx.has_residual = residual is not None
    ctx.bias_dtype = bias.dtype if bias is not None else None


def _grads(ctx, dy: Tensor, dh: Tensor | None, backward) -> tuple[Tensor | None, ...]:
    """Gradients of (x, weight, bias, residual, eps) through ``backward`` (the custom op or ``launch_backward``)."""
    h, weight, mean, rstd = ctx.saved_tensors
    dx, dweight, dbias = backward(dy, dh if ctx.has_residual else None, h, weight, mean, rstd, ctx.bias_dtype)
    return dx, dweight, (dbias if ctx.bias_dtype is not None else None), (dx if ctx.has_residual else None), None


def _setup(ctx, inputs: tuple, output: tuple) -> None:
    x, weight, bias, residual, _ = inputs
    _, h, mean, rstd = output
    _save(ctx, x, weight, bias, residual, h, mean, rstd)


def _backward(ctx, dy: Tensor, dh: Tensor | None, _dmean: Tensor | None,
              _drstd: Tensor | None) -> tuple[Tensor | None, ...]:
    return _grads(ctx, dy, dh, torch.ops.caramba.layer_norm_backward)


layer_norm_forward.register_autograd(_backward, setup_context=_setup)


class LayerNormFunction(torch.autograd.Function):
    """The eager path: the custom ops' launches without their Python layers. Returns y, or (y, h) with a residual."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, residual: Tensor | None,  # type: ignore[override]
                eps: float):
        y, h, mean, rstd = launch_forward(x, weight, bias, residual, eps)
        _save(ctx, x, weight, bias, residual, h, mean, rstd)
        return (y, h) if residual is not None else y

    @staticmethod
    def backward(ctx, dy: Tensor, dh: Tensor | None = None) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        return _grads(ctx, dy, dh, launch_backward)


def layer_norm_triton(x: Tensor, weight: Tensor, bias: Tensor | None, eps: float,
                      residual: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """LayerNorm of x (+ residual) through the Triton kernels; returns (y, h) with h None without residual.

    Inside ``torch.compile`` the custom op ``torch.ops.caramba.layer_norm`` (one graph node,
    autograd through ``layer_norm_backward``); eagerly ``LayerNormFunction`` (module docstring).
    """
    if torch.compiler.is_compiling():
        y, h, _, _ = torch.ops.caramba.layer_norm(x, weight, bias, residual, eps)
        return y, (h if residual is not None else None)
    if not (torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, weight, bias, residual))):
        y, h, _, _ = launch_forward(x, weight, bias, residual, eps, keep_stats=False)  # inference: no node, no stats
        return y, h
    if residual is not None:
        y, h = LayerNormFunction.apply(x, weight, bias, residual, eps)
        return y, h
    return LayerNormFunction.apply(x, weight, bias, None, eps), None
