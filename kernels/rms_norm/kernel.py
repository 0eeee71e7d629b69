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

Two ways in, one pair of launches (``launch_forward``, ``launch_backward``):
- inside ``torch.compile`` both passes are ``torch.library`` custom ops (``caramba::rms_norm``,
  ``caramba::rms_norm_backward``) with fake (shape-only) implementations and an autograd
  rule, so the graph holds each as one node instead of breaking around an autograd Function;
- eagerly, ``RMSNormFunction`` (a plain ``torch.autograd.Function``) calls the launches
  directly. The custom op's Python layers (dispatcher, generated autograd Function, alias
  checks) cost about 3× the host time of a Function per fwd+bwd (measured on the CPU with
  the launches stubbed: 426 against 139 µs), which made the launched fwd+bwd host-bound
  (0.87 ms against 0.21 ms of GPU work, CUDA-graph replay, on an H200).
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
                             HAS_RESIDUAL: tl.constexpr, STORE_RSTD: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    h = tl.load(X + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)  # issued with x's load, not after the reduction
    if HAS_RESIDUAL:
        h += tl.load(R + row * stride_r + cols, mask=mask, other=0.0).to(tl.float32)
        rounded = h.to(H.dtype.element_ty)
        tl.store(H + row * stride_h + cols, rounded, mask=mask)
        h = rounded.to(tl.float32)
    rstd = tl.rsqrt(tl.sum(h * h, axis=0) / N + eps)
    tl.store(Y + row * stride_y + cols, (h * rstd * w).to(Y.dtype.element_ty), mask=mask)
    if STORE_RSTD:
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


def launch_forward(x: Tensor, weight: Tensor, residual: Tensor | None, eps: float,
                   keep_rstd: bool = True, warps: int | None = None) -> tuple[Tensor, Tensor | None, Tensor]:
    """Run the forward kernel: (y, h, rstd) with y, h in x's shape; h None without ``residual``.

    ``keep_rstd=False`` (inference) skips rstd's store; the returned rstd is then empty.
    ``warps`` overrides ``row_config``'s warp count (the benchmark's configuration sweep).
    """
    shape, n = x.shape, x.shape[-1]
    block, default_warps = row_config(n, "rms_norm")
    warps = warps or default_warps
    x2 = rows(x)
    m = x2.shape[0]
    y = torch.empty((m, n), dtype=x.dtype, device=x.device)
    rstd = torch.empty(m if keep_rstd else 0, dtype=torch.float32, device=x.device)
    r2 = rows(residual) if residual is not None else x2
    h = torch.empty((m, n), dtype=x.dtype, device=x.device) if residual is not None else None
    _rms_norm_forward_kernel[(m,)](x2, r2, h if h is not None else x2, y, weight, rstd, x2.stride(0),
                                   r2.stride(0), n, y.stride(0), n, eps, HAS_RESIDUAL=residual is not None,
                                   STORE_RSTD=keep_rstd, BLOCK=block,
                                   num_warps=warps)  # h's row stride is n (unused without residual)
    return y.view(shape), (h.view(shape) if h is not None else None), rstd


def launch_backward(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, rstd: Tensor,
                    per_sm: int = 4) -> tuple[Tensor, Tensor]:
    """Run the backward kernel: (dx, dweight) from the gradients at y and (optionally) at h.

    ``per_sm``: programs per multiprocessor (the benchmark's configuration sweep; 4 ships).
    """
    h2 = rows(h)
    m, n = h2.shape
    block, warps = row_config(n, "rms_norm backward")
    dy2 = rows(dy)
    dh2 = rows(dh) if dh is not None else dy2
    dx = torch.empty((m, n), dtype=h.dtype, device=h.device)
    partials = WeightPartials.make(h2, 1, per_sm)
    _rms_norm_backward_kernel[(partials.programs,)](dy2, dh2, h2, weight, rstd, dx, *partials.buffers,
                                                    dy2.stride(0), dh2.stride(0), h2.stride(0), dx.stride(0), m, n,
                                                    partials.rows_per_program, HAS_DH=dh is not None,
                                                    BLOCK=block, num_warps=warps)
    (dweight,) = partials.sums(weight.dtype)
    return dx.view(h.shape), dweight


@torch.library.custom_op("caramba::rms_norm", mutates_args=())
def rms_norm_forward(x: Tensor, weight: Tensor, residual: Tensor | None, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(y, h, rstd): y and h in x's shape and dtype, rstd (M,) float32; h is empty without ``residual``.

    A custom op never returns an alias of its input, so without a residual h (which is x)
    is not returned: the autograd rule saves x itself.
    """
    y, h, rstd = launch_forward(x, weight, residual, eps)
    return y, (h if h is not None else x.new_empty(0)), rstd


@rms_norm_forward.register_fake
def _(x: Tensor, weight: Tensor, residual: Tensor | None, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    rows_ = x.numel() // x.shape[-1]
    h = torch.empty_like(x, memory_format=torch.contiguous_format) if residual is not None else x.new_empty(0)
    return (torch.empty_like(x, memory_format=torch.contiguous_format), h,
            x.new_empty(rows_, dtype=torch.float32))


@torch.library.custom_op("caramba::rms_norm_backward", mutates_args=())
def rms_norm_backward(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, rstd: Tensor) -> tuple[Tensor, Tensor]:
    """(dx, dweight) from the gradients at y and (optionally) at the returned h; dx in h's shape."""
    return launch_backward(dy, dh, h, weight, rstd)


@rms_norm_backward.register_fake
def _(dy: Tensor, dh: Tensor | None, h: Tensor, weight: Tensor, rstd: Tensor) -> tuple[Tensor, Tensor]:
    return torch.empty_like(h, memory_format=torch.contiguous_format), torch.empty_like(weight)


def _save(ctx, x: Tensor, weight: Tensor, residual: Tensor | None, h: Tensor | None, rstd: Tensor) -> None:
    """What both backward paths need: the normalised input (h, or x without residual), g, rstd."""
    ctx.save_for_backward(h if residual is not None else x, weight, rstd)
    ctx.has_residual = residual is not None


def _grads(ctx, dy: Tensor, dh: Tensor | None, backward) -> tuple[Tensor | None, ...]:
    """Gradients of (x, weight, residual, eps) through ``backward`` (the custom op or ``launch_backward``)."""
    h, weight, rstd = ctx.saved_tensors
    dx, dweight = backward(dy, dh if ctx.has_residual else None, h, weight, rstd)
    return dx, dweight, (dx if ctx.has_residual else None), None


def _setup(ctx, inputs: tuple, output: tuple) -> None:
    x, weight, residual, _ = inputs
    _, h, rstd = output
    _save(ctx, x, weight, residual, h, rstd)


def _backward(ctx, dy: Tensor, dh: Tensor | None, _drstd: Tensor | None) -> tuple[Tensor | None, ...]:
    return _grads(ctx, dy, dh, torch.ops.caramba.rms_norm_backward)


rms_norm_forward.register_autograd(_backward, setup_context=_setup)


class RMSNormFunction(torch.autograd.Function):
    """The eager path: the same launches as the custom ops, without their Python layers (module docstring).

    Returns y alone without a residual, (y, h) with one.
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, residual: Tensor | None, eps: float):  # type: ignore[override]
        y, h, rstd = launch_forward(x, weight, residual, eps)
        _save(ctx, x, weight, residual, h, rstd)
        return (y, h) if residual is not None else y

    @staticmethod
    def backward(ctx, dy: Tensor, dh: Tensor | None = None) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        return _grads(ctx, dy, dh, launch_backward)


def rms_norm_triton(x: Tensor, weight: Tensor, eps: float,
                    residual: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """RMSNorm of x (+ residual) through the Triton kernels; returns (y, h) with h None without residual.

    Inside ``torch.compile`` the custom op ``torch.ops.caramba.rms_norm`` (one graph node,
    autograd through ``rms_norm_backward``); eagerly ``RMSNormFunction`` (module docstring).
    """
    if torch.compiler.is_compiling():
        y, h, _ = torch.ops.caramba.rms_norm(x, weight, residual, eps)
        return y, (h if residual is not None else None)
    if not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad
                                         or (residual is not None and residual.requires_grad))):
        y, h, _ = launch_forward(x, weight, residual, eps, keep_rstd=False)  # inference: no autograd node, no rstd
        return y, h
    if residual is not None:
        y, h = RMSNormFunction.apply(x, weight, residual, eps)
        return y, h
    return RMSNormFunction.apply(x, weight, None, eps), None
