"""``glu``: the SwiGLU/GEGLU Triton kernel (forward, dgate, dup) against a float64 reference."""

from __future__ import annotations

import math

import pytest
import torch

from caramba.kernels.glu.kernel import glu_triton
from tests.kernels.conftest import assert_close, randn


def reference(gate: torch.Tensor, up: torch.Tensor, activation: str) -> torch.Tensor:
    """Shazeer's GLU variants in float64: SiLU g·σ(g), exact GELU g·(1 + erf(g/√2))/2."""
    if activation == "silu":
        act = gate * torch.sigmoid(gate)
    else:
        act = gate * 0.5 * (1 + torch.erf(gate / math.sqrt(2)))
    return act * up


@pytest.mark.parametrize("path", ["eager Function", "custom op"])
@pytest.mark.parametrize("shape", [(5, 123, 123), (1, 1, 7)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("activation", ["silu", "gelu"])
def test_glu_matches_float64_reference(path, shape, dtype, activation, generator) -> None:
    gate = randn(generator, *shape, dtype=dtype, scale=3).requires_grad_()
    up = randn(generator, *shape, dtype=dtype).requires_grad_()
    # eagerly glu_triton runs GLUFunction; torch.compile graphs hold the custom op and its autograd rule
    y = glu_triton(gate, up, activation) if path == "eager Function" else torch.ops.caramba.glu(gate, up, activation)
    dy = randn(generator, *shape, dtype=dtype)
    (y.float() * dy.float()).sum().backward()

    gate64, up64 = gate.detach().double().requires_grad_(), up.detach().double().requires_grad_()
    y64 = reference(gate64, up64, activation)
    (y64 * dy.double()).sum().backward()

    assert y.dtype == dtype
    assert_close("y", y, y64, dtype)
    assert_close("dgate", gate.grad, gate64.grad, dtype)
    assert_close("dup", up.grad, up64.grad, dtype)


def test_glu_rejects_mismatched_inputs(generator) -> None:
    gate = randn(generator, 2, 3, dtype=torch.float32)
    with pytest.raises(ValueError, match="same shape and dtype"):
        glu_triton(gate, gate[:, :2], "silu")
