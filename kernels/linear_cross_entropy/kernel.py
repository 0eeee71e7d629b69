"""Linear + cross-entropy, fused and chunked: the (tokens × vocab) logits are never materialised.

For hidden states h (N, D), a head W (V, D), targets y (N,) and n = #{i : yᵢ ≠ ignore}:

    zᵢ = W hᵢ,  lseᵢ = log Σⱼ exp zᵢⱼ
    ℓᵢ = lseᵢ − (1 − ε)·zᵢ,yᵢ − (ε/V)·Σⱼ zᵢⱼ + λ·lseᵢ²        (ε label smoothing as in
    loss = Σ_{yᵢ ≠ ignore} ℓᵢ / n                              F.cross_entropy; λ the z-loss of PaLM)
    ∂ℓᵢ/∂zᵢⱼ = softmaxᵢⱼ·(1 + 2λ·lseᵢ) − ε/V − (1 − ε)·[j = yᵢ]

The tokens are processed in chunks of C: the logits of one chunk (C, V) are computed by a
matmul in h's dtype into one reused buffer; a first Triton kernel reduces each row's
vocabulary in ``SPLITS`` slices at once (online max, Σ exp, Σ z and the target's logit,
in float32), a second combines the slices into lse, writes ℓᵢ/n and overwrites the logits
with ∂loss/∂z; then two matmuls turn that into the chunk's rows of ∂loss/∂h and add its
share of ∂loss/∂W. So the whole gradient is ready after the forward, the backward only
scales it by the incoming gradient, and peak extra memory is one chunk of logits plus
∂loss/∂W plus ∂loss/∂h (``default_chunk`` counts them). Ignored rows contribute nothing;
when every row is ignored the loss is 0.

Precision of ∂loss/∂W: it is accumulated in W's dtype when that equals h's (bf16 under
autocast), as Liger-Kernel's fused linear cross-entropy does: each chunk's product is
summed over its C rows in float32 inside cuBLAS, and only the running sum is rounded,
once per chunk: N/C roundings of at most 2⁻⁸ relative (bf16's unit roundoff), unbiased,
so an error of order √(N/C)·2⁻⁸ of each entry (≈ 2% at 32 chunks, 1.2% at the test's 10)
where a float32 sum rounded once would give 2⁻⁸ (0.4%). Fewer, larger chunks shrink it.
A float32 running sum would cost |W|·2 more bytes — 0.98 GiB for a Llama-3 head, more than
the whole 0.6 GiB budget — so it is used only where W's dtype differs from h's
(a float32 W with bf16 h outside autocast): then the running sum is float32, W is cast to
h's dtype once, and the gradient is returned in W's dtype.

The whole computation is the ``torch.library`` custom op ``caramba::linear_cross_entropy``
(a fake implementation gives its output shapes; its autograd rule scales the gradients it
already computed), so ``torch.compile`` holds it as one graph node: inside the trainer's
compiled step the logits are never materialised either.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch._subclasses.fake_tensor import is_fake

from caramba.kernels.launch import next_power_of_2

BLOCK_V = 4096  # vocabulary entries per loop step (fewer for a smaller vocabulary)
SPLITS = 8  # programs per row at most: each reduces, then differentiates, one slice of the vocabulary
CHUNK_ROWS: int | None = None  # rows per chunk when set (benchmarks/gpt2_h100.py measures sizes); None: default_chunk


@triton.jit
def _cross_entropy_partial_kernel(Z, stride_z, PARTIAL, TARGETS, V, span, BLOCK: tl.constexpr, SPLITS: tl.constexpr):
    """Per (row, split): max m, Σ exp(z − m), Σ z and the target's logit (0 if elsewhere) over the split's span."""
    row = tl.program_id(0).to(tl.int64)
    split = tl.program_id(1)
    target = tl.load(TARGETS + row)
    z_row = Z + row * stride_z
    cols = tl.arange(0, BLOCK)
    running_max = tl.full([BLOCK], -1e30, tl.float32)
    running_sum = tl.zeros([BLOCK], tl.float32)
    total = tl.zeros([BLOCK], tl.float32)
    picked = tl.zeros([BLOCK], tl.float32)
    first = split * span
    for start in range(first, first + span, BLOCK):
        idx = start + cols
        mask = (idx < V) & (idx < first + span)
        z = tl.load(z_row + idx, mask=mask, other=float("-inf")).to(tl.float32)
        new_max = tl.maximum(running_max, z)
        running_sum = running_sum * tl.exp(running_max - new_max) + tl.exp(z - new_max)
        running_max = new_max
        total += tl.where(mask, z, 0.0)
        picked += tl.where(mask & (idx == target), z, 0.0)
    top = tl.max(running_max, axis=0)
    out = PARTIAL + (row * SPLITS + split) * 4
    tl.store(out, top)
    tl.store(out + 1, tl.sum(running_sum * tl.exp(running_max - top), axis=0))
    tl.store(out + 2, tl.sum(total, axis=0))
    tl.store(out + 3, tl.sum(picked, axis=0))


@triton.jit
def _cross_entropy_grad_kernel(Z, stride_z, PARTIAL, TARGETS, LOSS, COUNT, V, span, ignore_index, smoothing, z_loss,
                               BLOCK: tl.constexpr, SPLITS: tl.constexpr):
    """Per (row, split): combine the row's partials into lse, write ∂loss/∂z over the span; split 0 writes ℓ/n."""
    row = tl.program_id(0).to(tl.int64)
    split = tl.program_id(1)
    z_row = Z + row * stride_z
    cols = tl.arange(0, BLOCK)
    target = tl.load(TARGETS + row)
    first = split * span
    if target == ignore_index:
        for start in range(first, first + span, BLOCK):
            idx = start + cols
            tl.store(z_row + idx, tl.zeros([BLOCK], tl.float32).to(Z.dtype.element_ty),
                     mask=(idx < V) & (idx < first + span))
        if split == 0:
            tl.store(LOSS + row, 0.0)
    else:
        parts = PARTIAL + row * SPLITS * 4 + tl.arange(0, SPLITS) * 4
        maxima = tl.load(parts)
        top = tl.max(maxima, axis=0)
        lse = top + tl.log(tl.sum(tl.load(parts + 1) * tl.exp(maxima - top), axis=0))
        inv_n = 1.0 / tl.maximum(tl.load(COUNT).to(tl.float32), 1.0)
        scale = 1.0 + 2.0 * z_loss * lse
        for start in range(first, first + span, BLOCK):
            idx = start + cols
            mask = (idx < V) & (idx < first + span)
            z = tl.load(z_row + idx, mask=mask, other=0.0).to(tl.float32)
            grad = tl.exp(z - lse) * scale - smoothing / V - tl.where(idx == target, 1.0 - smoothing, 0.0)
            tl.store(z_row + idx, (grad * inv_n).to(Z.dtype.element_ty), mask=mask)
        if split == 0:
            z_target = tl.sum(tl.load(parts + 3), axis=0)  # recorded by the first kernel, before any overwrite
            total = tl.sum(tl.load(parts + 2), axis=0)
            loss = lse - (1.0 - smoothing) * z_target - smoothing / V * total + z_loss * lse * lse
            tl.store(LOSS + row, loss * inv_n)


def default_chunk(tokens: int, vocab: int, width: int, itemsize: int = 2) -> int:
    """Rows per chunk: the largest power of two whose logits buffer fits ``max(|W|/8, 64 MiB)``.

    Memory: the weight gradient (V·D values) and ∂loss/∂h (N·D) must exist whatever the
    chunking; the only chunk-sized buffer is the (C, V) logits, C·V·itemsize bytes. Capping
    it at 1/8 of the weight keeps the peak within 1.125·|W| + |h| — at 8192 tokens × 2048 →
    128,256 vocab in bf16 that is 256 rows: 501 MiB (dW) + 32 MiB (dh) + 62.6 MiB (buffer)
    = 0.582 GiB, inside the 0.6 GiB goal, where 512 rows (0.643 GiB) would not be.

    Time: every chunk reads W twice (logits, ∂h) and reads and writes ∂W once, 8·V·D bytes
    against 6·C·V·D flops, so the weight traffic costs ≈ 4·F / (3·B·C) of the compute time
    (F matmul flop/s, B bytes/s; ≈ 189/C on an H200: 0.74 at 256 rows, 0.37 at 512). A small
    vocabulary's 1/8 would give tiny, traffic-bound chunks (96 rows for GPT-2's head), so the
    cap never goes below 64 MiB of logits: 512 rows at GPT-2's 50,304 vocabulary. Never more
    than 4096 rows, nor more than the tokens' next power of two.
    """
    cap = max(vocab * width // 8, (64 << 20) // itemsize) // vocab
    rows = 1 << (max(cap, 1).bit_length() - 1)
    return max(1, min(rows, next_power_of_2(tokens), 4096))


def fused_forward(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int, smoothing: float, z_loss: float,
                  chunk: int) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, ∂loss/∂h, ∂loss/∂W) for h (N, D), weight (V, D), targets (N,) — see the module docstring.

    One (chunk, V) buffer serves every chunk; ∂loss/∂W is written by the first chunk's
    matmul and accumulated by the others (no zero fill).
    """
    n_tokens, vocab = h.shape[0], weight.shape[0]
    w = weight if weight.dtype == h.dtype else weight.to(h.dtype)
    in_place = weight.dtype == h.dtype
    grad_h = torch.empty_like(h)
    grad_w = torch.empty(weight.shape, dtype=weight.dtype if in_place else torch.float32, device=h.device)
    losses = torch.empty(n_tokens, dtype=torch.float32, device=h.device)
    count = (targets != ignore_index).sum()
    rows = max(1, min(chunk, n_tokens))
    buffer = torch.empty((rows, vocab), dtype=h.dtype, device=h.device)
    block = min(BLOCK_V, next_power_of_2(vocab))
    splits = next_power_of_2(min(SPLITS, triton.cdiv(vocab, block)))
    partial = torch.empty((rows, splits, 4), dtype=torch.float32, device=h.device)
    span = triton.cdiv(triton.cdiv(vocab, splits), block) * block
    for start in range(0, n_tokens, rows):
        stop = min(start + rows, n_tokens)
        h_chunk, logits, grid = h[start:stop], buffer[: stop - start], (stop - start, splits)
        torch.mm(h_chunk, w.T, out=logits)  # (C, V) in h's dtype; overwritten with ∂loss/∂z below
        _cross_entropy_partial_kernel[grid](logits, logits.stride(0), partial, targets[start:stop], vocab, span,
                                            BLOCK=block, SPLITS=splits, num_warps=8)
        _cross_entropy_grad_kernel[grid](logits, logits.stride(0), partial, targets[start:stop], losses[start:stop],
                                         count, vocab, span, ignore_index, smoothing, z_loss, BLOCK=block,
                                         SPLITS=splits, num_warps=8)
        torch.mm(logits, w, out=grad_h[start:stop])
        if in_place and start == 0:
            torch.mm(logits.T, h_chunk, out=grad_w)
        elif in_place:
            grad_w.addmm_(logits.T, h_chunk)
        elif start == 0:
            grad_w.copy_(logits.T @ h_chunk)
        else:
            grad_w += (logits.T @ h_chunk).float()
    return losses.sum(), grad_h, grad_w.to(weight.dtype)


@torch.library.custom_op("caramba::linear_cross_entropy", mutates_args=())
def linear_cross_entropy_forward(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int, smoothing: float,
                                 z_loss: float, chunk: int) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, ∂loss/∂h, ∂loss/∂W) of ``fused_forward``; ``chunk`` 0 takes ``default_chunk``'s rows."""
    check_shapes(h, weight, targets)
    rows = chunk or default_chunk(h.shape[0], weight.shape[0], weight.shape[1], h.element_size())
    return fused_forward(h.contiguous(), weight, targets.contiguous(), ignore_index, smoothing, z_loss, rows)


@linear_cross_entropy_forward.register_fake
def _(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int, smoothing: float, z_loss: float,
      chunk: int) -> tuple[Tensor, Tensor, Tensor]:
    check_shapes(h, weight, targets)
    return (h.new_empty((), dtype=torch.float32), torch.empty_like(h, memory_format=torch.contiguous_format),
            torch.empty_like(weight, memory_format=torch.contiguous_format))


def check_shapes(h: Tensor, weight: Tensor, targets: Tensor) -> None:
    """Raise ValueError naming the shapes unless h (N, D), weight (V, D), targets (N,)."""
    if h.dim() != 2 or weight.dim() != 2 or h.shape[1] != weight.shape[1] or targets.shape != h.shape[:1]:
        raise ValueError(f"linear_cross_entropy: expected h (N, D), weight (V, D), targets (N,); got "
                         f"{tuple(h.shape)}, {tuple(weight.shape)}, {tuple(targets.shape)}")


def _setup(ctx, inputs: tuple, output: tuple) -> None:
    """Save the gradients computed in the forward; the two gradient outputs take no incoming gradient.

    ``set_materialize_grads(False)``: without it autograd hands the backward a zero tensor
    for each unused output, ∂loss/∂h and ∂loss/∂W — a second V×D buffer, which doubled the
    peak (1.04 instead of 0.58 GiB at 8192 × 2048 → 128,256, measured on an H200).
    """
    _, grad_h, grad_w = output
    ctx.mark_non_differentiable(grad_h, grad_w)
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(grad_h, grad_w)


def _backward(ctx, grad_loss: Tensor | None, _gh: Tensor | None, _gw: Tensor | None) -> tuple[Tensor | None, ...]:
    """Scale the gradients computed in the forward: in place when eager (a copy of ∂loss/∂W would
    double the peak), out of place in a traced backward (AOTAutograd's partitioner refuses a
    mutated saved tensor as an output; there the graph's own memory planning applies)."""
    grad_h, grad_w = ctx.saved_tensors
    rest = (None, None, None, None, None)
    if grad_loss is None:  # only the (non-differentiable) gradient outputs were used
        return (None, None, *rest)
    if torch.compiler.is_compiling() or is_fake(grad_w):  # traced (Dynamo, or AOTAutograd on fake tensors)
        return (grad_h * grad_loss.to(grad_h.dtype), grad_w * grad_loss.to(grad_w.dtype), *rest)
    # a second backward through the same graph (retain_graph) is refused by autograd's version check
    return (grad_h.mul_(grad_loss.to(grad_h.dtype)), grad_w.mul_(grad_loss.to(grad_w.dtype)), *rest)


linear_cross_entropy_forward.register_autograd(_backward, setup_context=_setup)


def linear_cross_entropy_triton(h: Tensor, weight: Tensor, targets: Tensor, ignore_index: int = -100,
                                smoothing: float = 0.0, z_loss: float = 0.0, chunk: int | None = None) -> Tensor:
    """The scalar loss through the custom op ``torch.ops.caramba.linear_cross_entropy`` (one graph node).

    ``chunk`` rows per chunk; None takes ``CHUNK_ROWS`` when a benchmark set it, else ``default_chunk``.
    """
    loss, _, _ = torch.ops.caramba.linear_cross_entropy(h, weight, targets, ignore_index, smoothing, z_loss,
                                                        chunk or CHUNK_ROWS or 0)
    return loss
