"""Tile loaders of ``kv_decode``: rows of one cached tensor rebuilt in registers as float16.

Two shapes of tile, by storage kind (``KINDS`` in ``kernel.py``):

* dense (0) and q8 (1): one (BLOCK_N, BLOCK_D) tile of the head's D columns;
* q4 (2): two (BLOCK_N, BLOCK_D/2) tiles, the low nibbles (even columns 0, 2, 4 …) and the
  high nibbles (odd columns), read straight from the packed bytes. The caller splits its
  query the same way (q_even · lowᵀ + q_odd · highᵀ = q · kᵀ) and keeps two value
  accumulators, so no nibble is ever interleaved back in registers (the ``tl.join`` +
  reshape this replaces was a layout shuffle per tile, and at 8 bytes a row it gave wrong
  results on an H200).

Codes become float16 by bit assembly when ``BITS`` (the default): a value u in [0, 255] ORed
into 0x6400 is the float16 1024 + u exactly, so u − 1024 − offset costs one integer OR and
one half subtract (the trick of FasterTransformer's and Marlin's int4 kernels), instead of
an int → float conversion, which the multiprocessors execute at a quarter or less of their
arithmetic rate (16 a clock per SM on sm_90: 134 M codes take 32 µs at B 8, T 8192).

Scales (float16, one per quantisation block of QBLOCK values) load once per row and
broadcast over their block through a reshape of the tile; a q4 byte column j belongs to
block 2j / QBLOCK, i.e. blocks of QBLOCK/2 byte columns.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def load_rows(P, S, base, scale_base, stride_n, stride_d, stride_sn, n, n_mask, D, KIND: tl.constexpr,
              QBLOCK: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr):
    """Rows n as stored: (values, scales). Values (BLOCK_N, BLOCK_D) dense or q8 codes, (BLOCK_N, BLOCK_D/2)
    q4 bytes; scales (BLOCK_N, BLOCK_D/QBLOCK) float16 (zeros for dense: nothing is read).

    Loading is split from rebuilding so the kernel can issue the next tile's loads before it
    works on this one (``kernel.py``): the loads are in flight while the tile is rebuilt and
    multiplied, which Triton's software pipeliner does not do for loads that are rebuilt
    before their ``tl.dot`` (no ``cp.async`` in the compiled loop).
    """
    NB: tl.constexpr = BLOCK_D // QBLOCK
    if KIND == 2:
        j = tl.arange(0, BLOCK_D // 2)
        mask = n_mask[:, None] & (j < D // 2)[None, :]  # (q4 widths are even) a bound on j itself keeps loads wide
        values = tl.load(P + base + n[:, None] * stride_n + j[None, :] * stride_d, mask=mask, other=0)
    else:
        d = tl.arange(0, BLOCK_D)
        mask = n_mask[:, None] & (d < D)[None, :]
        values = tl.load(P + base + n[:, None] * stride_n + d[None, :] * stride_d, mask=mask, other=0)
    if KIND == 0:
        scales = tl.zeros([BLOCK_N, NB], tl.float16)
    else:
        blocks = tl.arange(0, NB)
        s_mask = n_mask[:, None] & (blocks * QBLOCK < D)[None, :]
        scales = tl.load(S + scale_base + n[:, None] * stride_sn + blocks[None, :], mask=s_mask, other=0.0)
    return values, scales.to(tl.float16)


@triton.jit
def full_tile(values, scales, KIND: tl.constexpr, QBLOCK: tl.constexpr, BLOCK_N: tl.constexpr,
              BLOCK_D: tl.constexpr, BITS: tl.constexpr):
    """Dense values or q8 codes (``load_rows``) as a float16 (BLOCK_N, BLOCK_D) tile, codes times their scale."""
    if KIND == 0:
        tile = values.to(tl.float16)
    else:
        if BITS:  # c + 128 ∈ [1, 255] in the low byte of 1024.0's bits, then − 1152
            biased = values.to(tl.uint8, bitcast=True) ^ 0x80  # c + 128 as a byte, no sign extension
            codes = (biased.to(tl.int16) | 0x6400).to(tl.float16, bitcast=True) - 1152.0
        else:
            codes = values.to(tl.float16)
        scaled = tl.reshape(codes, [BLOCK_N, BLOCK_D // QBLOCK, QBLOCK]) * scales[:, :, None]
        tile = tl.reshape(scaled, [BLOCK_N, BLOCK_D])
    return tile


@triton.jit
def half_tiles(values, scales, QBLOCK: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr,
               BITS: tl.constexpr):
    """q4 bytes (``load_rows``) as two float16 (BLOCK_N, BLOCK_H) tiles: even columns (low nibbles), odd (high)."""
    byte = values.to(tl.int32)
    if BITS:  # nibble u ∈ [0, 15] in 1024.0's bits, then − 1032
        low = ((byte & 15) | 0x6400).to(tl.int16).to(tl.float16, bitcast=True) - 1032.0
        high = (((byte >> 4) & 15) | 0x6400).to(tl.int16).to(tl.float16, bitcast=True) - 1032.0
    else:
        low = ((byte & 15) - 8).to(tl.float16)
        high = ((byte >> 4) - 8).to(tl.float16)
    NB: tl.constexpr = 2 * BLOCK_H // QBLOCK
    HALF: tl.constexpr = QBLOCK // 2
    low = tl.reshape(tl.reshape(low, [BLOCK_N, NB, HALF]) * scales[:, :, None], [BLOCK_N, BLOCK_H])
    high = tl.reshape(tl.reshape(high, [BLOCK_N, NB, HALF]) * scales[:, :, None], [BLOCK_N, BLOCK_H])
    return low, high


@triton.jit
def query(Q, base, stride_h, heads, g_mask, D, scale, KIND: tl.constexpr, BLOCK_D: tl.constexpr):
    """The G query rows (BLOCK_G, ·) times ``scale`` as float16, split even/odd for a q4 key (``half_tiles``).

    (Each helper here assigns its result in both branches of a compile-time ``if`` and returns
    once: Triton checks every ``return`` of a function against the others, taken or not.)
    """
    if KIND == 2:
        j = tl.arange(0, BLOCK_D // 2)
        mask = g_mask[:, None] & (2 * j < D)[None, :]
        rows = Q + base + heads * stride_h
        even = tl.load(rows + 2 * j[None, :], mask=mask, other=0.0).to(tl.float32) * scale
        odd = tl.load(rows + 2 * j[None, :] + 1, mask=mask & (2 * j + 1 < D)[None, :], other=0.0).to(tl.float32) * scale
        first, second = even.to(tl.float16), odd.to(tl.float16)
    else:
        d = tl.arange(0, BLOCK_D)
        full = tl.load(Q + base + heads * stride_h + d[None, :], mask=g_mask[:, None] & (d < D)[None, :], other=0.0)
        first = (full.to(tl.float32) * scale).to(tl.float16)
        second = first
    return first, second


@triton.jit
def scores(qa, qb, values, scales, KIND: tl.constexpr, QBLOCK: tl.constexpr, BLOCK_N: tl.constexpr,
           BLOCK_D: tl.constexpr, BITS: tl.constexpr):
    """q · kᵀ (BLOCK_G, BLOCK_N) in float32 for one tile of a cached key tensor (``load_rows``)."""
    if KIND == 2:
        low, high = half_tiles(values, scales, QBLOCK, BLOCK_N, BLOCK_D // 2, BITS)
        s = tl.dot(qa, tl.trans(low)) + tl.dot(qb, tl.trans(high))
    else:
        s = tl.dot(qa, tl.trans(full_tile(values, scales, KIND, QBLOCK, BLOCK_N, BLOCK_D, BITS)))
    return s


@triton.jit
def accumulate(acc_a, acc_b, alpha, p, values, scales, KIND: tl.constexpr, QBLOCK: tl.constexpr,
               BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr, BITS: tl.constexpr):
    """acc·α + p·v for one value tile; q4 values keep even columns in ``acc_a`` and odd ones in ``acc_b``."""
    if KIND == 2:
        low, high = half_tiles(values, scales, QBLOCK, BLOCK_N, BLOCK_D // 2, BITS)
        acc_a = acc_a * alpha[:, None] + tl.dot(p, low)
        acc_b = acc_b * alpha[:, None] + tl.dot(p, high)
    else:
        acc_a = acc_a * alpha[:, None] + tl.dot(p, full_tile(values, scales, KIND, QBLOCK, BLOCK_N, BLOCK_D, BITS))
    return acc_a, acc_b


def block_width(width: int, kind: str) -> int:
    """BLOCK_D of a head of ``width`` values: a power of two ≥ 16 (≥ 32 for q4, whose halves feed ``tl.dot``)."""
    from caramba.kernels.launch import next_power_of_2

    return max(32 if kind == "q4" else 16, next_power_of_2(width))

