"""Block-wise symmetric quantisation of cache tensors: ``q8_0`` and ``q4_0``.

The last dimension (a head vector of width D) is cut into blocks of ``b`` values; each
block j keeps one scale s_j (float16) and integer codes q:

    s_j = max_i |x_ji| / q_max,    q_ji = round(x_ji / s_j) ∈ [−q_max, q_max],    x̂_ji = s_j · q_ji

with q_max = 127 for q8 (one int8 per value) and q_max = 7 for q4 (4-bit codes q + 8 ∈
[1, 15], two per uint8 byte: the even element in the low nibble, the odd one in the
high nibble). The rounding error is at most s_j / 2 = max|x_j| / (2·q_max) per value:
0.39 % of the block's largest magnitude for q8, 7.1 % for q4. The layout follows
llama.cpp's Q8_0/Q4_0 blocks (there with b = 32), symmetric (no zero point).

Bytes per value: q8 = 1 + 2/b, q4 = 1/2 + 2/b (the scale costs 2 bytes per block).

Shapes: x (..., D) → codes (..., D) int8 for q8, (..., D/2) uint8 for q4; scales (..., D/b).
"""

from __future__ import annotations

import torch
from torch import Tensor

Q_MAX = {"q8": 127, "q4": 7}


def check_block(kind: str, width: int, block_size: int, where: str) -> None:
    """Raise an actionable error unless ``block_size`` can cut a vector of ``width``."""
    if width % block_size:
        divisors = [d for d in range(2, width + 1) if width % d == 0 and (kind != "q4" or d % 2 == 0)]
        raise ValueError(
            f"{kind} cache: block_size {block_size} does not divide the head width {width} of {where}; "
            f"set cache.block_size to one of {divisors}")
    if kind == "q4" and block_size % 2:
        raise ValueError(f"q4 cache packs two values per byte: block_size must be even, got {block_size}")


def quantize(x: Tensor, kind: str, block_size: int) -> tuple[Tensor, Tensor]:
    """x (..., D) float → (codes, scales) as described in the module docstring."""
    q_max = Q_MAX[kind]
    blocks = x.float().unflatten(-1, (-1, block_size))                      # (..., D/b, b)
    scales = (blocks.abs().amax(dim=-1) / q_max).to(torch.float16)         # (..., D/b)
    safe = scales.float().masked_fill(scales == 0, 1.0).unsqueeze(-1)      # (..., D/b, 1)
    codes = (blocks / safe).round_().clamp_(-q_max, q_max).flatten(-2)     # (..., D)
    if kind == "q8":
        return codes.to(torch.int8), scales
    nibbles = (codes + 8).to(torch.uint8)                                  # (..., D) in [1, 15]
    return nibbles[..., 0::2] | (nibbles[..., 1::2] << 4), scales          # (..., D/2)


def dequantize(codes: Tensor, scales: Tensor, kind: str, block_size: int, dtype: torch.dtype) -> Tensor:
    """(codes, scales) → x̂ (..., D) in ``dtype``."""
    if kind == "q8":
        values = codes.float()                                             # (..., D)
    else:
        low = (codes & 0x0F).to(torch.int8) - 8
        high = (codes >> 4).to(torch.int8) - 8
        values = torch.stack([low, high], dim=-1).flatten(-2).float()      # (..., D)
    blocks = values.unflatten(-1, (-1, block_size)) * scales.float().unsqueeze(-1)
    return blocks.flatten(-2).to(dtype)
