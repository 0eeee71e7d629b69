"""``rope``: the Triton RoPE (custom op forward, dq, dk; in-place inference) against a float64 reference, llama3 scaling included."""

from __future__ import annotations

import pytest
import torch

from caramba.engine.model.layers.rope import inverse_frequencies
from caramba.kernels.rope import tables
from caramba.kernels.rope.kernel import rope_triton, rotate
from tests.kernels.conftest import DEVICE, assert_close, randn

LLAMA3 = {"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 64}


def reference(x: torch.Tensor, start: int, inv_freq: torch.Tensor) -> torch.Tensor:
    """RoFormer's rotation in float64, as the multiplication of x₁ + i·x₂ by e^{i·p·θ}."""
    half = x.shape[-1] // 2
    positions = torch.arange(start, start + x.shape[-2], dtype=torch.float64)
    rotation = torch.polar(torch.ones(x.shape[-2], half, dtype=torch.float64),
                           torch.outer(positions, inv_freq.double().cpu()))
    z = torch.complex(x[..., :half], x[..., half:]) * rotation.to(x.device)
    return torch.cat([z.real, z.imag], dim=-1)


def through_custom_op(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """The path ``torch.compile`` graphs hold: the custom op ``caramba::rope`` and its autograd rule."""
    return torch.ops.caramba.rope(x, cos.float().contiguous(), sin.float().contiguous(), False)


@pytest.mark.parametrize("path", ["eager Function", "custom op"])
@pytest.mark.parametrize("b,h,h_kv,t,d,start,scaling,dtype", [
    (1, 5, 5, 123, 46, 0, None, torch.float32),      # odd T, D/2 = 23 (not a power of two)
    (1, 6, 2, 1, 128, 4000, LLAMA3, torch.bfloat16),  # decode: T = 1 at a far position, GQA, llama3
    (3, 4, 2, 37, 64, 11, LLAMA3, torch.float32),
])
def test_rope_matches_float64_reference(path, b, h, h_kv, t, d, start, scaling, dtype, generator) -> None:
    inv_freq = inverse_frequencies(d, 10000.0, scaling)
    cos, sin = tables(inv_freq, start, t, torch.device(DEVICE))
    # transposed views, as the attention layers pass them: (B, T, H, D) storage seen as (B, H, T, D)
    q_leaf = randn(generator, b, t, h, d, dtype=dtype).requires_grad_()
    k_leaf = randn(generator, b, t, h_kv, d, dtype=dtype).requires_grad_()
    q, k = q_leaf * 1, k_leaf * 1
    rotate_out = rope_triton if path == "eager Function" else through_custom_op
    q_rot, k_rot = rotate_out(q.transpose(1, 2), cos, sin), rotate_out(k.transpose(1, 2), cos, sin)
    dq, dk = randn(generator, b, h, t, d, dtype=dtype), randn(generator, b, h_kv, t, d, dtype=dtype)
    ((q_rot.float() * dq.float()).sum() + (k_rot.float() * dk.float()).sum()).backward()

    q64, k64 = q_leaf.detach().double().requires_grad_(), k_leaf.detach().double().requires_grad_()
    q64_rot, k64_rot = reference(q64.transpose(1, 2), start, inv_freq), reference(k64.transpose(1, 2), start, inv_freq)
    ((q64_rot * dq.double()).sum() + (k64_rot * dk.double()).sum()).backward()

    assert q_rot.stride() == q.transpose(1, 2).stride(), "the op keeps the input's layout"
    assert_close("q", q_rot, q64_rot, dtype)
    assert_close("k", k_rot, k64_rot, dtype)
    assert_close("dq", q_leaf.grad, q64.grad, dtype)
    assert_close("dk", k_leaf.grad, k64.grad, dtype)
    with torch.no_grad():  # eager inference: the kernel rotates in place
        q_view = q_leaf.detach().clone().transpose(1, 2)
        rotated = rotate(q_view, q_view, cos.float().contiguous(), sin.float().contiguous())
    assert rotated.data_ptr() == q_view.data_ptr()
    assert_close("q in place", rotated, q64_rot, dtype)


def test_rope_rejects_wrong_tables(generator) -> None:
    q = randn(generator, 1, 2, 5, 8, dtype=torch.float32)
    cos, sin = tables(inverse_frequencies(8, 10000.0), 0, 4, torch.device(DEVICE))
    with pytest.raises(ValueError, match=r"must be \(5, 4\)"):
        rope_triton(q, cos, sin)
