"""A model cast to bf16 keeps RoPE's exact frequencies (θᵢ = base^(−2i/d) in float32).

Reference: the rotation angle p·θᵢ computed in float64 from the RoFormer formula, written
here, not taken from caramba's layers.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from caramba.engine.model.layers.rope import Rope
from caramba.kernels.rope import tables


def exact_angles(position: int, head_dim: int, base: float) -> torch.Tensor:
    """p·θᵢ in float64 for i < head_dim/2 (RoFormer, eq. 15)."""
    return torch.tensor([position * base ** (-2 * i / head_dim) for i in range(head_dim // 2)],
                        dtype=torch.float64)


def test_bf16_cast_keeps_float32_frequencies_and_angles_at_16k() -> None:
    model = nn.Sequential(nn.Linear(8, 8), Rope(64, 10000.0)).to(torch.bfloat16)
    rope = model[1]
    assert model[0].weight.dtype == torch.bfloat16          # the cast happened
    assert rope.inv_freq.dtype == torch.float32              # but not to RoPE's frequencies
    cos, sin = tables(rope.inv_freq, 16383, 1, torch.device("cpu"))
    got = torch.atan2(sin[0].double(), cos[0].double())
    want = exact_angles(16383, 64, 10000.0)
    wrapped = torch.remainder(got - want + math.pi, 2 * math.pi) - math.pi
    assert wrapped.abs().max().item() < 5e-3, wrapped.abs().max().item()
    # what the cast used to do: θ rounded to bf16 puts the highest frequency's angle far off
    rounded = rope.inv_freq.to(torch.bfloat16).double() * 16383
    off = (torch.remainder(rounded - want + math.pi, 2 * math.pi) - math.pi).abs().max().item()
    assert off > 0.5, off


def test_float64_cast_keeps_float64_and_back_to_float32() -> None:
    rope = Rope(16, 500000.0).double()
    assert rope.inv_freq.dtype == torch.float64
    assert rope.half().inv_freq.dtype == torch.float32
