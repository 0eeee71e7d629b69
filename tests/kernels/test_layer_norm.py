"""``layer_norm``: the Triton kernel (forward, dx, dweight, dbias, residual) against a float64 reference."""

from __future__ import annotations

import pytest
import torch

from caramba.kernels.layer_norm.kernel import layer_norm_triton
from tests.kernels.conftest import assert_close, randn


def reference(x, w, b, eps, r):
    """Ba et al.'s LayerNorm in float64: h = x + r; y = (h − mean) / sqrt(var + eps) · w + b (biased variance)."""
    h = x.double() + (r.double() if r is not None else 0)
    if r is not None:
        h = h.to(x.dtype).double()  # the residual stream is stored in x's dtype, as the unfused add
    centred = h - h.mean(-1, keepdim=True)
    y = centred * torch.rsqrt(centred.pow(2).mean(-1, keepdim=True) + eps) * w.double()
    return (y + b.double() if b is not None else y), h


def through_custom_op(x, w, b, eps, r):
    """The path ``torch.compile`` graphs hold: the custom op ``caramba::layer_norm`` and its autograd rule."""
    y, h, _, _ = torch.ops.caramba.layer_norm(x, w, b, r, eps)
    return y, (h if r is not None else None)


@pytest.mark.parametrize("path", ["eager Function", "custom op"])
@pytest.mark.parametrize("shape,dtype,residual,bias", [
    ((5, 123, 123), torch.float32, False, True),
    ((3, 7, 300), torch.bfloat16, True, True),
    ((1, 1, 64), torch.float32, True, False),
    ((3, 7, 300), torch.bfloat16, False, False),
])
def test_layer_norm_matches_float64_reference(path, shape, dtype, residual, bias, generator) -> None:
    eps = 1e-5
    x = randn(generator, *shape, dtype=dtype, scale=3).add(0.5).requires_grad_()
    r = randn(generator, *shape, dtype=dtype).requires_grad_() if residual else None
    w = (1 + 0.1 * randn(generator, shape[-1], dtype=torch.float32)).requires_grad_()
    b = (0.1 * randn(generator, shape[-1], dtype=torch.float32)).requires_grad_() if bias else None
    y, h = (layer_norm_triton if path == "eager Function" else through_custom_op)(x, w, b, eps, r)
    with torch.no_grad():  # inference: the kernel skips storing mean and rstd; y must not change
        assert torch.equal(layer_norm_triton(x, w, b, eps, r)[0], y)
    dy = randn(generator, *shape, dtype=dtype)
    dh = randn(generator, *shape, dtype=dtype) if residual else None
    (y.float() * dy.float()).sum().add((h.float() * dh.float()).sum() if residual else 0).backward()

    leaves = [t.detach().double().requires_grad_() if t is not None else None for t in (x, w, b, r)]
    x64, w64, b64, r64 = leaves
    y64, h64 = reference(x64, w64, b64, eps, r64)
    (y64 * dy.double()).sum().add((h64 * dh.double()).sum() if residual else 0).backward()

    assert y.dtype == dtype
    assert_close("y", y, y64, dtype)
    assert_close("dx", x.grad, x64.grad, dtype)
    assert_close("dweight", w.grad, w64.grad, dtype, scale=4)
    if bias:
        assert_close("dbias", b.grad, b64.grad, dtype, scale=4)
    if residual:
        assert_close("h", h, h64, dtype)
        assert_close("dresidual", r.grad, r64.grad, dtype)
