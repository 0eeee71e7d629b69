"""``linear_cross_entropy``: the fused chunked kernel (loss, dh, dW) against a float64 reference."""

from __future__ import annotations

import pytest
import torch

from caramba.kernels.linear_cross_entropy.kernel import linear_cross_entropy_triton
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
    (37, 64, 5000, None, 0.1, 1e-3, torch.bfloat16),  # V > one 4096 block; smoothing and z-loss
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
