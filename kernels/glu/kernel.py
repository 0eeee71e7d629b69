"""Gated activation of a GLU MLP, y = act(gate) ⊙ up, forward and backward in Triton.

Math (Shazeer, 2020, "GLU Variants Improve Transformer"), element-wise in float32:

    SiLU (SwiGLU): a(g) = g·σ(g),           a'(g) = σ(g)·(1 + g·(1 − σ(g)))
    GELU (GEGLU):  a(g) = g·Φ(g),           a'(g) = Φ(g) + g·φ(g)
                   with Φ(g) = (1 + erf(g/√2))/2, φ(g) = exp(−g²/2)/√(2π)  (exact GELU, F.gelu's default)

    y = a(gate) ⊙ up;   dgate = dy ⊙ up ⊙ a'(gate);   dup = dy ⊙ a(gate)

The forward reads two tensors and writes one; the backward recomputes a(gate) instead of
saving it, reading three and writing two. Flat 1-D blocks of ``BLOCK`` elements (16-byte
accesses per thread in bf16 at 4 warps per 1024 elements). Both passes are ``torch.library``
custom ops (``caramba::glu``, ``caramba::glu_backward``) with fake implementations and an
autograd rule, so ``torch.compile`` holds each as one graph node; eagerly ``GLUFunction`` (a
plain autograd Function) calls the same launches without the custom op's host overhead
(see ``rms_norm/kernel.py``).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

ACTIVATIONS = {"silu": 0, "gelu": 1}
BLOCK, WARPS = 2048, 8


@triton.jit
def _activation(g, ACT: tl.constexpr):
    """(a(g), a'(g)) in float32."""
    if ACT == 0:
        s = tl.sigmoid(g)
        return g * s, s * (1.0 + g * (1.0 - s))
    cdf = 0.5 * (1.0 + tl.math.erf(g * 0.7071067811865476))
    return g * cdf, cdf + g * tl.exp(-0.5 * g * g) * 0.3989422804014327


@triton.jit
def _glu_forward_kernel(G, U, Y, n, ACT: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    g = tl.load(G + offs, mask=mask, other=0.0).to(tl.float32)
    u = tl.load(U + offs, mask=mask, other=0.0).to(tl.float32)
    a, _ = _activation(g, ACT)
    tl.store(Y + offs, (a * u).to(Y.dtype.element_ty), mask=mask)


@triton.jit
def _glu_backward_kernel(DY, G, U, DG, DU, n, ACT: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    dy = tl.load(DY + offs, mask=mask, other=0.0).to(tl.float32)
    g = tl.load(G + offs, mask=mask, other=0.0).to(tl.float32)
    u = tl.load(U + offs, mask=mask, other=0.0).to(tl.float32)
    a, da = _activation(g, ACT)
    tl.store(DG + offs, (dy * u * da).to(DG.dtype.element_ty), mask=mask)
    tl.store(DU + offs, (dy * a).to(DU.dtype.element_ty), mask=mask)


def launch_forward(gate: Tensor, up: Tensor, activation: str) -> Tensor:
    """Run the forward kernel: act(gate) ⊙ up (same shape and dtype as gate)."""
    if gate.shape != up.shape or gate.dtype != up.dtype:
        raise ValueError(f"glu: gate {tuple(gate.shape)} {gate.dtype} and up {tuple(up.shape)} {up.dtype} "
                         "must have the same shape and dtype")
    gate, up = gate.contiguous(), up.contiguous()
    y = torch.empty_like(gate)
    n = gate.numel()
    _glu_forward_kernel[(triton.cdiv(n, BLOCK),)](gate, up, y, n, ACT=ACTIVATIONS[activation], BLOCK=BLOCK,
                                                  num_warps=WARPS)
    return y


@torch.library.custom_op("caramba::glu", mutates_args=())
def glu_forward(gate: Tensor, up: Tensor, activation: str) -> Tensor:
    """act(gate) ⊙ up (same shape and dtype as gate; see the module docstring)."""
    return launch_forward(gate, up, activation)


@glu_forward.register_fake
def _(gate: Tensor, up: Tensor, activation: str) -> Tensor:
    if gate.shape != up.shape or gate.dtype != up.dtype:
        raise ValueError(f"glu: gate {tuple(gate.shape)} {gate.dtype} and up {tuple(up.shape)} {up.dtype} "
                         "must have the same shape and dtype")
    return torch.empty_like(gate, memory_format=torch.contiguous_format)


def launch_backward(dy: Tensor, gate: Tensor, up: Tensor, activation: str) -> tuple[Tensor, Tensor]:
    """Run the backward kernel: (dgate, dup), recomputing act(gate) instead of reading a saved copy."""
    dy, gate, up = dy.contiguous(), gate.contiguous(), up.contiguous()
    dgate, dup = torch.empty_like(gate), torch.empty_like(up)
    n = gate.numel()
    _glu_backward_kernel[(triton.cdiv(n, BLOCK),)](dy, gate, up, dgate, dup, n, ACT=ACTIVATIONS[activation],
                                                   BLOCK=BLOCK, num_warps=WARPS)
    return dgate, dup


@torch.library.custom_op("caramba::glu_backward", mutates_args=())
def glu_backward(dy: Tensor, gate: Tensor, up: Tensor, activation: str) -> tuple[Tensor, Tensor]:
    """(dgate, dup), recomputing act(gate) instead of reading a saved copy."""
    return launch_backward(dy, gate, up, activation)


@glu_backward.register_fake
def _(dy: Tensor, gate: Tensor, up: Tensor, activation: str) -> tuple[Tensor, Tensor]:
    return (torch.empty_like(gate, memory_format=torch.contiguous_format),
            torch.empty_like(up, memory_format=torch.contiguous_format))


def _setup(ctx, inputs: tuple, output: Tensor) -> None:
    gate, up, activation = inputs
    ctx.save_for_backward(gate, up)
    ctx.activation = activation


def _grads(ctx, dy: Tensor, backward) -> tuple[Tensor, Tensor, None]:
    """Gradients of (gate, up, activation) through ``backward`` (the custom op or ``launch_backward``)."""
    gate, up = ctx.saved_tensors
    dgate, dup = backward(dy, gate, up, ctx.activation)
    return dgate, dup, None


def _backward(ctx, dy: Tensor) -> tuple[Tensor, Tensor, None]:
    return _grads(ctx, dy, torch.ops.caramba.glu_backward)


glu_forward.register_autograd(_backward, setup_context=_setup)


class GLUFunction(torch.autograd.Function):
    """The eager path: the custom ops' launches without their Python layers (module docstring)."""

    @staticmethod
    def forward(ctx, gate: Tensor, up: Tensor, activation: str) -> Tensor:  # type: ignore[override]
        # forward(ctx, …), not a separate setup_context: Function.apply binds a setup_context
        # style forward's arguments through inspect.signature on every call (tens of µs)
        y = launch_forward(gate, up, activation)
        _setup(ctx, (gate, up, activation), y)
        return y

    @staticmethod
    def backward(ctx, dy: Tensor) -> tuple[Tensor, Tensor, None]:  # type: ignore[override]
        return _grads(ctx, dy, launch_backward)


def glu_triton(gate: Tensor, up: Tensor, activation: str) -> Tensor:
    """act(gate) ⊙ up: the custom op ``torch.ops.caramba.glu`` inside ``torch.compile`` (one graph node),
    ``GLUFunction`` eagerly."""
    if torch.compiler.is_compiling():
        return torch.ops.caramba.glu(gate, up, activation)
    return GLUFunction.apply(gate, up, activation)
