"""Rotary position embedding applied in place to q and k, forward and backward in Triton.

Math (Su et al., 2021, "RoFormer"; rotate-half layout of Llama / Hugging Face): a head
vector x of width D splits into halves (x₁, x₂), each pair i rotated by angle p·θᵢ:

    y₁ = x₁·cos − x₂·sin,   y₂ = x₂·cos + x₁·sin          (cos, sin of p·θᵢ, float32)

The rotation is orthogonal, so the backward rotates the incoming gradient by −p·θᵢ (the
same kernel with sin negated). θᵢ carries any frequency scaling (linear, llama3): the
kernel reads the (T, D/2) cos/sin tables the caller builds from its inverse frequencies.

Inputs are (B, H, T, D) with any strides (the transposed views attention layers make).
Eager inference rotates q and k in place (``rotate(x, x, …)``, no new activation memory);
with autograd, and inside ``torch.compile``, the rotation is the out-of-place
``torch.library`` custom op ``caramba::rope`` inside ``torch.compile`` (a custom op with an
autograd rule may not mutate its input), whose backward is the same op with the angle
negated, and eagerly ``RopeFunction``, the same launches without the custom op's host
overhead (see ``rms_norm/kernel.py``). One program rotates every head of one (batch, position): it reads that
position's cos/sin once, and in the layers' (B, T, H, D) storage its H·D values are
contiguous.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import next_power_of_2


@triton.jit
def _rope_kernel(X, Y, COS, SIN, sxb, sxh, sxt, sxd, syb, syh, syt, syd, H, T, HALF,
                 BACKWARD: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_D: tl.constexpr):
    pid = tl.program_id(0)
    b, t = (pid // T).to(tl.int64), (pid % T).to(tl.int64)
    h = tl.arange(0, BLOCK_H)[:, None].to(tl.int64)
    d = tl.arange(0, BLOCK_D)
    mask = (h < H) & (d < HALF)[None, :]
    x = X + b * sxb + t * sxt + h * sxh + d[None, :] * sxd
    x1 = tl.load(x, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(x + HALF * sxd, mask=mask, other=0.0).to(tl.float32)
    cos = tl.load(COS + t * HALF + d, mask=d < HALF, other=0.0)[None, :]
    sin = tl.load(SIN + t * HALF + d, mask=d < HALF, other=0.0)[None, :]
    if BACKWARD:
        sin = -sin
    y = Y + b * syb + t * syt + h * syh + d[None, :] * syd
    tl.store(y, (x1 * cos - x2 * sin).to(Y.dtype.element_ty), mask=mask)
    tl.store(y + HALF * syd, (x2 * cos + x1 * sin).to(Y.dtype.element_ty), mask=mask)


def rotate(x: Tensor, out: Tensor, cos: Tensor, sin: Tensor, backward: bool = False) -> Tensor:
    """Rotate x (B, H, T, D) into ``out`` (may be x itself) with float32 tables (T, D/2)."""
    b, h, t, d = x.shape
    half = d // 2
    if d % 2 or cos.shape != (t, half) or sin.shape != (t, half):
        raise ValueError(f"rope: head width {d} must be even and cos/sin {tuple(cos.shape)}/{tuple(sin.shape)} "
                         f"must be ({t}, {half})")
    block_h, block_d = next_power_of_2(h), next_power_of_2(half)
    _rope_kernel[(b * t,)](x, out, cos, sin, *x.stride(), *out.stride(), h, t, half, BACKWARD=backward,
                           BLOCK_H=block_h, BLOCK_D=block_d, num_warps=4 if block_h * block_d <= 2048 else 8)
    return out


@torch.library.custom_op("caramba::rope", mutates_args=())
def rope_forward(x: Tensor, cos: Tensor, sin: Tensor, inverse: bool) -> Tensor:
    """x (B, H, T, D) rotated by +p·θᵢ (by −p·θᵢ when ``inverse``) into a new tensor with x's strides."""
    return rotate(x, torch.empty_like(x), cos, sin, backward=inverse)


@rope_forward.register_fake
def _(x: Tensor, cos: Tensor, sin: Tensor, inverse: bool) -> Tensor:
    return torch.empty_like(x)


def _setup(ctx, inputs: tuple, output: Tensor) -> None:
    _, cos, sin, inverse = inputs
    ctx.save_for_backward(cos, sin)
    ctx.inverse = inverse


def _backward(ctx, dy: Tensor) -> tuple[Tensor, None, None, None]:
    cos, sin = ctx.saved_tensors
    return torch.ops.caramba.rope(dy, cos, sin, not ctx.inverse), None, None, None


rope_forward.register_autograd(_backward, setup_context=_setup)


class RopeFunction(torch.autograd.Function):
    """The eager path with autograd: out-of-place rotations launched directly (module docstring)."""

    @staticmethod
    def forward(ctx, x: Tensor, cos: Tensor, sin: Tensor, inverse: bool) -> Tensor:  # type: ignore[override]
        # forward(ctx, …): a separate setup_context makes Function.apply bind arguments
        # through inspect.signature on every call (see glu/kernel.py)
        _setup(ctx, (x, cos, sin, inverse), x)
        return rotate(x, torch.empty_like(x), cos, sin, backward=inverse)

    @staticmethod
    def backward(ctx, dy: Tensor) -> tuple[Tensor, None, None, None]:  # type: ignore[override]
        cos, sin = ctx.saved_tensors
        return rotate(dy, torch.empty_like(dy), cos, sin, backward=not ctx.inverse), None, None, None


def rope_triton(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate x (B, H, T, D) out of place: the custom op ``torch.ops.caramba.rope`` inside
    ``torch.compile`` (one graph node, forward and backward), ``RopeFunction`` eagerly.

    The path with autograd and inside ``torch.compile``; eager inference rotates in place
    with ``rotate(x, x, cos, sin)`` instead.
    """
    cos, sin = cos.float().contiguous(), sin.float().contiguous()
    if torch.compiler.is_compiling():
        return torch.ops.caramba.rope(x, cos, sin, False)
    return RopeFunction.apply(x, cos, sin, False)
