"""``rms_norm``: the Triton kernel (forward, dx, dweight, residual) against a float64 reference."""

from __future__ import annotations

import pytest
import torch

from caramba.kernels.rms_norm.kernel import rms_norm_triton
from tests.kernels.conftest import assert_close, randn



def reference(x: torch.Tensor, w: torch.Tensor, eps: float, r: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Zhang & Sennrich's RMSNorm in float64: h = x + r; y = h / sqrt(mean(h²) + eps) · w."""
    h = x.double() + (r.double() if r is not None else 0)
    if r is not None:
        h = h.to(x.dtype).double()  # the residual stream is stored in x's dtype, as the unfused add
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps) * w.double(), h


def through_custom_op(x, w, eps, r):
    """The path ``torch.compile`` graphs hold: the custom op ``caramba::rms_norm`` and its autograd rule."""
    y, h, _ = torch.ops.caramba.rms_norm(x, w, r, eps)
    return y, (h if r is not None else None)


@pytest.mark.parametrize("path", ["eager Function", "custom op"])
@pytest.mark.parametrize("shape,dtype,residual", [
    ((5, 123, 123), torch.float32, True),     # odd rows and width (123 of a 128 block)
    ((3, 7, 300), torch.float32, False),
    ((3, 7, 300), torch.bfloat16, True),
    ((1, 1, 64), torch.bfloat16, False),      # one token
])
def test_rms_norm_matches_float64_reference(path, shape, dtype, residual, generator) -> None:
    eps = 1e-6
    x = randn(generator, *shape, dtype=dtype).requires_grad_()
    r = randn(generator, *shape, dtype=dtype).requires_grad_() if residual else None
    w = (1 + 0.1 * randn(generator, shape[-1], dtype=torch.float32)).requires_grad_()
    y, h = (rms_norm_triton if path == "eager Function" else through_custom_op)(x, w, eps, r)
    with torch.no_grad():  # inference: the kernel skips storing rstd; y must not change
        assert torch.equal(rms_norm_triton(x, w, eps, r)[0], y)
    dy = randn(generator, *shape, dtype=dtype)
    dh = randn(generator, *shape, dtype=dtype) if residual else None
    (y.float() * dy.float()).sum().add((h.float() * dh.float()).sum() if residual else 0).backward()

    x64 = x.detach().double().requires_grad_()
    r64 = r.detach().double().requires_grad_() if residual else None
    w64 = w.detach().double().requires_grad_()
    y64, h64 = reference(x64, w64, eps, r64)
    (y64 * dy.double()).sum().add((h64 * dh.double()).sum() if residual else 0).backward()

    assert y.dtype == dtype and y.shape == x.shape
    assert_close("y", y, y64, dtype)
    assert_close("dx", x.grad, x64.grad, dtype)
    assert_close("dweight", w.grad, w64.grad, dtype, scale=4)
    if residual:
        assert_close("h", h, h64, dtype)
        assert_close("dresidual", r.grad, r64.grad, dtype)
    else:
        assert h is None
