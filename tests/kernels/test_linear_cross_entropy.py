"""``linear_cross_entropy``: the fused chunked kernel (loss, dh, dW) against a float64 reference."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from caramba.kernels.linear_cross_entropy.kernel import SPLITS, default_chunk, fused_forward, linear_cross_entropy_triton
from tests.kernels.conftest import DEVICE, assert_close, randn


def reference(h, w, targets, ignore_index, smoothing, z_loss):
    """Cross-entropy with label smoothing (Szegedy et al., 2016) and z-loss (PaLM) written out in float64.

    ℓᵢ = −Σⱼ qᵢⱼ log pᵢⱼ with q = (1 − ε)·onehot + ε/V, plus λ·lseᵢ²; mean over scored rows.
    """
    logits = h.double() @ w.double().T
    keep = targets != ignore_index
    logits, t = logits[keep], targets[keep]
    lse = torch.logsumexp(logits, dim=-1)
    log_p = logits - lse[:, None]
    q = torch.full_like(logits, smoothing / logits.shape[1])
    q[torch.arange(len(t)), t] += 1 - smoothing
    return (-(q * log_p).sum(-1) + z_loss * lse.pow(2)).sum() / keep.sum()


@pytest.mark.parametrize("n,d,v,chunk,smoothing,z_loss,dtype", [
    (123, 45, 1000, 32, 0.0, 0.0, torch.float32),    # V not a multiple of the block, last chunk partial
    (37, 64, 5000, None, 0.1, 1e-3, torch.bfloat16),  # V > one 4096 block; smoothing and z-loss; one chunk
    # ∂W summed in bf16 over 10 chunks: ≈ √10·2⁻⁸ ≈ 1.2% per entry expected, inside bf16's 2%-of-max bound
    (37, 64, 5000, 4, 0.0, 0.0, torch.bfloat16),
    (1, 16, 33, 4, 0.0, 1e-2, torch.float32),         # one token
])
def test_linear_cross_entropy_matches_float64_reference(n, d, v, chunk, smoothing, z_loss, dtype, generator) -> None:
    h = randn(generator, n, d, dtype=dtype).requires_grad_()
    w = randn(generator, v, d, dtype=dtype, scale=0.3).requires_grad_()
    targets = torch.randint(0, v, (n,), generator=generator).to(DEVICE)
    if n > 2:
        targets[::5] = -100  # ignored rows
    loss = linear_cross_entropy_triton(h, w, targets, -100, smoothing, z_loss, chunk)
    (loss * 2.5).backward()

    h64, w64 = h.detach().double().requires_grad_(), w.detach().double().requires_grad_()
    ref = reference(h64, w64, targets, -100, smoothing, z_loss)
    (ref * 2.5).backward()

    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert_close("loss", loss, ref, dtype)
    assert_close("dh", h.grad, h64.grad, dtype)
    assert_close("dweight", w.grad, w64.grad, dtype)


def test_every_row_ignored_gives_zero_loss_and_gradient(generator) -> None:
    h = randn(generator, 6, 8, dtype=torch.float32).requires_grad_()
    w = randn(generator, 50, 8, dtype=torch.float32).requires_grad_()
    loss = linear_cross_entropy_triton(h, w, torch.full((6,), -100, device=DEVICE), -100, 0.0, 0.0, 4)
    loss.backward()
    assert loss.item() == 0.0 and not h.grad.any() and not w.grad.any()


def test_linear_cross_entropy_rejects_mismatched_shapes(generator) -> None:
    h = randn(generator, 6, 8, dtype=torch.float32)
    with pytest.raises(ValueError, match=r"expected h \(N, D\), weight \(V, D\)"):
        linear_cross_entropy_triton(h, h, torch.zeros(5, dtype=torch.long, device=DEVICE), -100, 0.0, 0.0, None)


def test_eager_backward_scales_in_place_once(generator) -> None:
    """Eager, the gradients computed in the forward are scaled in place (no second ∂loss/∂W): a second
    backward through the same graph would scale them again, so it is refused with a message."""
    h = randn(generator, 6, 8, dtype=torch.float32).requires_grad_()
    w = randn(generator, 50, 8, dtype=torch.float32).requires_grad_()
    loss = linear_cross_entropy_triton(h, w, torch.randint(0, 50, (6,), generator=generator).to(DEVICE))
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


class NewStorages(TorchDispatchMode):
    """Records every storage an op creates (bytes by address): what the code under it allocates.

    In-place and ``out=`` ops (mutable schemas) write into storages that exist already.
    """

    def __init__(self, known: list[torch.Tensor]) -> None:
        super().__init__()
        self.known = {t.untyped_storage().data_ptr() for t in known}
        self.created: dict[int, tuple[str, int]] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func._schema.is_mutable:
            return out
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor) and t.untyped_storage().nbytes():
                ptr = t.untyped_storage().data_ptr()
                if ptr not in self.known and ptr not in self.created:
                    self.created[ptr] = (f"{func} {tuple(t.shape)} {t.dtype}", t.untyped_storage().nbytes())
        return out


def test_fused_forward_holds_one_logits_chunk_and_a_bf16_weight_gradient(generator) -> None:
    """The memory claim, byte for byte: besides ∂W and ∂h in bf16 (the gradient must exist), the
    forward allocates one (chunk, V) logits buffer and O(N) scalars — no float32 V×D accumulator."""
    n, d, v, chunk = 64, 16, 300, 32
    h, w = randn(generator, n, d, dtype=torch.bfloat16), randn(generator, v, d, dtype=torch.bfloat16)
    targets = torch.randint(0, v, (n,), generator=generator).to(DEVICE)
    with NewStorages([h, w, targets]) as seen:
        _, _, grad_w = fused_forward(h, w, targets, -100, 0.0, 0.0, chunk)
    assert grad_w.dtype == torch.bfloat16
    sizes = sorted((nbytes for _, nbytes in seen.created.values()), reverse=True)
    assert sizes[:3] == sorted([v * d * 2, n * d * 2, chunk * v * 2], reverse=True), seen.created
    allowed = v * d * 2 + n * d * 2 + chunk * v * 2 + n * (4 + 1) + chunk * SPLITS * 16 + 64
    assert sum(sizes) <= allowed, f"forward allocated {sum(sizes)} B > {allowed} B: {seen.created}"


def test_backward_allocates_nothing_the_size_of_a_gradient(generator) -> None:
    """Autograd materialises a zero gradient for every unused output unless told not to: for the
    ∂W output that was a second V×D buffer, doubling the peak on the GPU (1.04 vs 0.58 GiB)."""
    h = randn(generator, 64, 16, dtype=torch.bfloat16).requires_grad_()
    w = randn(generator, 300, 16, dtype=torch.bfloat16).requires_grad_()
    targets = torch.randint(0, 300, (64,), generator=generator).to(DEVICE)
    loss = linear_cross_entropy_triton(h, w, targets, -100, 0.0, 0.0, 32)
    with NewStorages([h, w, loss]) as seen:
        grad_h, grad_w = torch.autograd.grad(loss, (h, w))
    assert all(nbytes <= 8 for _, nbytes in seen.created.values()), seen.created
    assert grad_w.shape == w.shape and grad_h.shape == h.shape


@pytest.mark.parametrize("n,v,d,itemsize,rows", [
    (8192, 128256, 2048, 2, 256),  # the Llama-3 head: buffer 62.6 MiB = |W|/8, peak 0.582 GiB
    (16384, 50304, 768, 2, 512),   # GPT-2's head: |W|/8 is 9.2 MiB, so the 64 MiB floor decides
    (8192, 128256, 2048, 4, 256),  # float32 h: |W|/8 in values still decides
    (100, 50304, 768, 2, 128),     # never more than the tokens' next power of two
])
def test_default_chunk_caps_the_logits_buffer(n, v, d, itemsize, rows) -> None:
    """The rule (``default_chunk``): the largest power of two with C·V·itemsize ≤ max(|W|/8, 64 MiB)."""
    assert default_chunk(n, v, d, itemsize) == rows
    if rows < n:  # the next power of two would break the cap
        assert 2 * rows * v * itemsize > max(v * d * itemsize // 8, 64 << 20)
