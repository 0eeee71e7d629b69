"""``kv_store``: quantise new key/value rows and write them into a static q8/q4 cache at a device position.

    kv_store(x, codes, scales, "q4", block_size, position)   # x (B, H, T, D) → codes/scales[:, :, p … p+T−1]

The same block-wise symmetric rule as ``engine/infer/cache/quant.py`` (s = max|x| / q_max
rounded to float16, c = round-half-even(x / s) clamped to ±q_max, q4 stored + 8 two to a
byte, even column in the low nibble), in one launch instead of the dozen elementwise ops
of the PyTorch rule, and with the position p read from a one-element device tensor, so a
decode step that writes its token can be captured in a CUDA graph and replayed at every
position. One program writes one (batch, head, token) row.
"""

from __future__ import annotations

import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.launch import next_power_of_2

Q_MAX = {"q8": 127, "q4": 7}


@triton.jit
def _round_half_even(y):
    r = tl.floor(y + 0.5)
    tie = (r - y) == 0.5
    odd = (r - 2.0 * tl.floor(r * 0.5)) == 1.0
    return tl.where(tie & odd, r - 1.0, r)


@triton.jit
def _store_kernel(X, C, S, POS, sxb, sxh, sxt, sxd, scb, sch, scn, ssb, ssh, ssn, H, T, D,
                  Q4: tl.constexpr, Q_MAX: tl.constexpr, QBLOCK: tl.constexpr, BLOCK_H: tl.constexpr):
    row = tl.program_id(0)
    b, h, t = (row // (H * T)).to(tl.int64), ((row // T) % H).to(tl.int64), (row % T).to(tl.int64)
    p = tl.load(POS).to(tl.int64) + t
    x = X + b * sxb + h * sxh + t * sxt
    NB: tl.constexpr = 2 * BLOCK_H // QBLOCK
    HALF: tl.constexpr = QBLOCK // 2
    blocks = tl.arange(0, NB)
    j = tl.arange(0, BLOCK_H)
    even = tl.load(x + 2 * j * sxd, mask=2 * j < D, other=0.0).to(tl.float32)       # columns 0, 2, 4 …
    odd = tl.load(x + (2 * j + 1) * sxd, mask=2 * j + 1 < D, other=0.0).to(tl.float32)
    e3, o3 = tl.reshape(even, [NB, HALF]), tl.reshape(odd, [NB, HALF])
    amax = tl.maximum(tl.max(tl.abs(e3), axis=1), tl.max(tl.abs(o3), axis=1))     # (NB,)
    scale = (amax / Q_MAX).to(tl.float16)
    safe = tl.where(scale == 0, 1.0, scale.to(tl.float32))[:, None]
    ce = tl.minimum(tl.maximum(_round_half_even(e3 / safe), -Q_MAX), Q_MAX)
    co = tl.minimum(tl.maximum(_round_half_even(o3 / safe), -Q_MAX), Q_MAX)
    tl.store(S + b * ssb + h * ssh + p * ssn + blocks, scale, mask=blocks * QBLOCK < D)
    code = C + b * scb + h * sch + p * scn
    if Q4:
        byte = (tl.reshape(ce, [BLOCK_H]) + 8).to(tl.int32) | ((tl.reshape(co, [BLOCK_H]) + 8).to(tl.int32) << 4)
        tl.store(code + j, byte.to(tl.uint8), mask=2 * j < D)
    else:
        tl.store(code + 2 * j, tl.reshape(ce, [BLOCK_H]).to(tl.int8), mask=2 * j < D)
        tl.store(code + 2 * j + 1, tl.reshape(co, [BLOCK_H]).to(tl.int8), mask=2 * j + 1 < D)


def kv_store(x: Tensor, codes: Tensor, scales: Tensor, kind: str, block_size: int, position: Tensor) -> None:
    """Quantise x (B, H, T, D) and write it at tokens position … position+T−1 of ``codes``/``scales``.

    ``codes`` (B, H, capacity, D or D/2) and ``scales`` (B, H, capacity, D/b) are the static
    buffers (contiguous in their last dimension); ``position`` a one-element integer tensor on
    x's device. The block size must be an even power of two dividing D (``check_block``).
    """
    b, h, t, d = x.shape
    if kind not in Q_MAX or block_size < 2 or block_size & (block_size - 1) or d % block_size:
        raise ValueError(f"kv_store: kind q8/q4 and an even power-of-two block dividing the width expected; got "
                         f"{kind!r}, block {block_size}, width {d}")
    block_h = max(next_power_of_2(d) // 2, block_size // 2)
    _store_kernel[(b * h * t,)](x, codes, scales, position, *x.stride(), codes.stride(0), codes.stride(1),
                                codes.stride(2), scales.stride(0), scales.stride(1), scales.stride(2), h, t, d,
                                Q4=kind == "q4", Q_MAX=Q_MAX[kind], QBLOCK=block_size, BLOCK_H=block_h,
                                num_warps=1)
