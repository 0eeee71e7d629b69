"""Linear + cross-entropy, fused and chunked: the (tokens × vocab) logits are never materialised.

For hidden states h (N, D), a head W (V, D), targets y (N,) and n = #{i : yᵢ ≠ ignore}:

    zᵢ = W hᵢ,  lseᵢ = log Σⱼ exp zᵢⱼ
    ℓᵢ = lseᵢ − (1 − ε)·zᵢ,yᵢ − (ε/V)·Σⱼ zᵢⱼ + λ·lseᵢ²        (ε label smoothing as in
    loss = Σ_{yᵢ ≠ ignore} ℓᵢ / n                              F.cross_entropy; λ the z-loss of PaLM)
    ∂ℓᵢ/∂zᵢⱼ = softmaxᵢⱼ·(1 + 2λ·lseᵢ) − ε/V − (1 − ε)·[j = yᵢ]

The tokens are processed in chunks of C: logits of one chunk (C, V) are computed by a
matmul in h's dtype, one Triton program per row reduces them online (running max and sum
over blocks of the vocabulary, float32) and overwrites them with ∂loss/∂z, then two
matmuls turn that into the chunk's rows of ∂loss/∂h and add its share of ∂loss/∂W. So the
whole gradient is ready after the forward, the backward only scales it by the incoming
gradient, and peak extra memory is one chunk of logits plus ∂loss/∂W (accumulated in W's
dtype when it equals h's — as Liger-Kernel's fused linear cross-entropy does — else in
float32). Ignored rows contribute nothing; when every row is ignored the loss is 0.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import next_power_of_2

BLOCK_V = 4096


@triton.jit
def _cross_entropy_rows_kernel(Z, stride_z, TARGETS, LOSS, COUNT, V, ignore_index, smoothing, z_loss,
                               BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    z_row = Z + row * stride_z
    target = tl.load(TARGETS + row)
    cols = tl.arange(0, BLOCK)
    if target == ignore_index:
        for start in range(0, V, BLOCK):
            tl.store(z_row + start + cols, tl.zeros([BLOCK], tl.float32).to(Z.dtype.element_ty),
                     mask=start + cols < V)
        tl.store(LOSS + row, 0.0)
    else:
        running_max = tl.full([BLOCK], -1e30, tl.float32)
        running_sum = tl.zeros([BLOCK], tl.float32)
        total = tl.zeros([BLOCK], tl.float32)
        for start in range(0, V, BLOCK):
            mask = start + cols < V
            z = tl.load(z_row + start + cols, mask=mask, other=float("-inf")).to(tl.float32)
            new_max = tl.maximum(running_max, z)
            running_sum = running_sum * tl.exp(running_max - new_max) + tl.exp(z - new_max)
            running_max = new_max
            total += tl.where(mask, z, 0.0)
        top = tl.max(running_max, axis=0)
        lse = top + tl.log(tl.sum(running_sum * tl.exp(running_max - top), axis=0))
        z_target = tl.load(z_row + target).to(tl.float32)
        inv_n = 1.0 / tl.maximum(tl.load(COUNT).to(tl.float32), 1.0)
        loss = lse - (1.0 - smoothing) * z_target - smoothing / V * tl.sum(total, axis=0) + z_loss * lse * lse
        scale = 1.0 + 2.0 * z_loss * lse
        for start in range(0, V, BLOCK):
            mask = start + cols < V
            z = tl.load(z_row + start + cols, mask=mask, other=0.0).to(tl.float32)
            grad = tl.exp(z - lse) * scale - smoothing / V - tl.where(start + cols == target, 1.0 - smoothing, 0.0)
            tl.store(z_row + start + cols, (grad * inv_n).to(Z.dtype.element_ty), mask=mask)
        tl.store(LOSS + row, loss * inv_n)


def default_chunk(tokens: int, vocab: int, width: int) -> int:
    """Rows per chunk: a power of two with about as many logits per chunk as h has values.

    At 8192 tokens × 2048 → 128,256 vocab that is 256 rows (64 MiB of bf16 logits), the
    size Liger-Kernel picks too; never more than 4096 rows.
    """
    return max(1, min(next_power_of_2(triton.cdiv(tokens * width, vocab)), next_power_of_2(tokens), 4096))


def fused_forward(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int, smoothing: float, z_loss: float,
                  chunk: int) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, ∂loss/∂h, ∂loss/∂W) for h (N, D), weight (V, D), targets (N,) — see the module docstring."""
    n_tokens, vocab = h.shape[0], weight.shape[0]
    w = weight if weight.dtype == h.dtype else weight.to(h.dtype)
    grad_h = torch.empty_like(h)
    accumulate_in_place = weight.dtype == h.dtype
    grad_w = torch.zeros_like(weight) if accumulate_in_place else torch.zeros(weight.shape, dtype=torch.float32,
                                                                              device=weight.device)
    losses = torch.empty(n_tokens, dtype=torch.float32, device=h.device)
    count = (targets != ignore_index).sum()
    for start in range(0, n_tokens, chunk):
        stop = min(start + chunk, n_tokens)
        h_chunk = h[start:stop]
        logits = h_chunk @ w.T  # (C, V) in h's dtype; overwritten with ∂loss/∂z by the kernel
        _cross_entropy_rows_kernel[(stop - start,)](logits, logits.stride(0), targets[start:stop], losses[start:stop],
                                                    count, vocab, ignore_index, smoothing, z_loss, BLOCK=BLOCK_V,
                                                    num_warps=16)
        torch.mm(logits, w, out=grad_h[start:stop])
        if accumulate_in_place:
            grad_w.addmm_(logits.T, h_chunk)
        else:
            grad_w += (logits.T @ h_chunk).float()
    return losses.sum(), grad_h, grad_w.to(weight.dtype)


class LinearCrossEntropyFunction(torch.autograd.Function):
    """Autograd wrapper: ``apply(h, weight, targets, ignore_index, smoothing, z_loss, chunk)`` → scalar loss."""

    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int, smoothing: float, z_loss: float,
                chunk: int | None) -> Tensor:
        if h.dim() != 2 or weight.dim() != 2 or h.shape[1] != weight.shape[1] or targets.shape != h.shape[:1]:
            raise ValueError(f"linear_cross_entropy: expected h (N, D), weight (V, D), targets (N,); got "
                             f"{tuple(h.shape)}, {tuple(weight.shape)}, {tuple(targets.shape)}")
        h = h.contiguous()
        rows = chunk or default_chunk(h.shape[0], weight.shape[0], weight.shape[1])
        loss, grad_h, grad_w = fused_forward(h, weight, targets.contiguous(), ignore_index, smoothing, z_loss, rows)
        ctx.save_for_backward(grad_h, grad_w)
        ctx.used = False
        return loss

    @staticmethod
    def backward(ctx, grad_loss: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.used:
            raise RuntimeError("linear_cross_entropy: backward ran twice; the fused gradient is scaled in place "
                               "once (do not use retain_graph through this loss)")
        ctx.used = True
        grad_h, grad_w = ctx.saved_tensors
        return grad_h * grad_loss.to(grad_h.dtype), grad_w.mul_(grad_loss.to(grad_w.dtype)), None, None, None, None, None
