"""Decode attention over a q8/q4 (or dense) KV cache, dequantising in registers (flash-decoding, split-K).

For one new query per head (GQA: G = H / H_kv query heads share a key/value head; DBA adds
a second query/key part, the geometric one, whose scores add to the semantic ones) and a
cache of L tokens stored as block-wise codes c and float16 scales s (``engine/infer/cache/
quant.py``: x̂ = s_⌊d/b⌋ · c, q4 codes packed two per byte, stored + 8):

    out_g = Σ_n softmax_n(scale · q_g · k̂_n) · v̂_n

No dequantised copy of the history is ever written: each program loads a tile of codes and
their scales, rebuilds k̂ and v̂ in registers (``tiles.py``), and keeps a running max, sum and
weighted accumulator (Milakov & Gimelshein's online softmax; the split over the sequence of
Dao et al.'s "Flash-Decoding"). The sequence is cut into spans, one program per (batch, KV
head, span); a cache's exact recent window is one more segment; the partial results (max,
sum, accumulator) of the G real query rows of all spans are merged by a second small kernel
that reads them in chunks of ``MERGE_CHUNK`` spans and writes the output.

A segment's length may be a device tensor (a static cache's fill level, for a decode step
captured in a CUDA graph): the grid is then sized for the buffer's capacity and programs
whose span starts past the length write an empty partial (sum 0).

Scores and the value sum use ``tl.dot`` on float16 operands (the G query heads padded to
16 rows; float32 accumulation): rounding about 5e-4 relative, below q8's 0.4 %. The block
size b must be a power of two (tiles are reshaped by it); dense values must fit float16.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.kv_decode.tiles import accumulate, block_width, load_rows, query, scores
from caramba.kernels.launch import next_power_of_2

KINDS = {"dense": 0, "q8": 1, "q4": 2}
BLOCK_N = 64
TOKENS_PER_PROGRAM = 512  # sequence span of one program (more programs when the grid would not fill the GPU)
MERGE_CHUNK = 16  # spans the merge kernel loads at once
BITS = True  # codes → float16 by bit assembly (tiles.py); False: int → float conversions (the benchmark compares)


@triton.jit
def _kv_decode_kernel(Q, K, KS, Q2, K2, KS2, V, VS, LP, PM, PL, PACC, sqb, sqh, skb, skh, skn, skd, sksb, sksh, sksn,
                      sq2b, sq2h, sk2b, sk2h, sk2n, sk2d, sks2b, sks2h, sks2n,
                      svb, svh, svn, svd, svsb, svsh, svsn, L, H_KV, G, DK, DK2, DV, scale, scale2, span, slot0,
                      SLOTS, K_KIND: tl.constexpr, K2_KIND: tl.constexpr, V_KIND: tl.constexpr,
                      HAS_K2: tl.constexpr, L_ON_DEVICE: tl.constexpr, QBLOCK: tl.constexpr, BLOCK_G: tl.constexpr,
                      BLOCK_N: tl.constexpr, BLOCK_DK: tl.constexpr, BLOCK_DK2: tl.constexpr,
                      BLOCK_DV: tl.constexpr, BITS: tl.constexpr):
    bh = tl.program_id(0)
    split = tl.program_id(1)
    b, hk = (bh // H_KV).to(tl.int64), (bh % H_KV).to(tl.int64)
    if L_ON_DEVICE:
        length = tl.load(LP).to(tl.int32)
    else:
        length = L
    g = tl.arange(0, BLOCK_G)
    g_mask = g < G
    heads = (hk * G + g)[:, None]
    qa, qb = query(Q, b * sqb, sqh, heads, g_mask, DK, scale, K_KIND, BLOCK_DK)
    if HAS_K2:
        q2a, q2b = query(Q2, b * sq2b, sq2h, heads, g_mask, DK2, scale2, K2_KIND, BLOCK_DK2)
    m = tl.full([BLOCK_G], -1e30, tl.float32)
    l = tl.zeros([BLOCK_G], tl.float32)
    if V_KIND == 2:
        acc_a = tl.zeros([BLOCK_G, BLOCK_DV // 2], tl.float32)
        acc_b = tl.zeros([BLOCK_G, BLOCK_DV // 2], tl.float32)
    else:
        acc_a = tl.zeros([BLOCK_G, BLOCK_DV], tl.float32)
        acc_b = tl.zeros([BLOCK_G, 16], tl.float32)
    first = split * span
    last = tl.minimum(first + span, length)
    k_base, ks_base = b * skb + hk * skh, b * sksb + hk * sksh
    k2_base, ks2_base = b * sk2b + hk * sk2h, b * sks2b + hk * sks2h
    v_base, vs_base = b * svb + hk * svh, b * svsb + hk * svsh
    n = first + tl.arange(0, BLOCK_N)
    n_mask = n < last
    kv, kc = load_rows(K, KS, k_base, ks_base, skn, skd, sksn, n, n_mask, DK, K_KIND, QBLOCK, BLOCK_N, BLOCK_DK)
    if HAS_K2:
        k2v, k2c = load_rows(K2, KS2, k2_base, ks2_base, sk2n, sk2d, sks2n, n, n_mask, DK2, K2_KIND, QBLOCK, BLOCK_N,
                             BLOCK_DK2)
    vv, vc = load_rows(V, VS, v_base, vs_base, svn, svd, svsn, n, n_mask, DV, V_KIND, QBLOCK, BLOCK_N, BLOCK_DV)
    for start in range(first, last, BLOCK_N):
        # the next tile's loads go out first and land while this tile is rebuilt and multiplied
        nn = start + BLOCK_N + tl.arange(0, BLOCK_N)
        nn_mask = nn < last
        kv_next, kc_next = load_rows(K, KS, k_base, ks_base, skn, skd, sksn, nn, nn_mask, DK, K_KIND, QBLOCK, BLOCK_N,
                                     BLOCK_DK)
        if HAS_K2:
            k2v_next, k2c_next = load_rows(K2, KS2, k2_base, ks2_base, sk2n, sk2d, sks2n, nn, nn_mask, DK2, K2_KIND,
                                           QBLOCK, BLOCK_N, BLOCK_DK2)
        vv_next, vc_next = load_rows(V, VS, v_base, vs_base, svn, svd, svsn, nn, nn_mask, DV, V_KIND, QBLOCK, BLOCK_N,
                                     BLOCK_DV)
        n = start + tl.arange(0, BLOCK_N)
        n_mask = n < last
        s = scores(qa, qb, kv, kc, K_KIND, QBLOCK, BLOCK_N, BLOCK_DK, BITS)
        if HAS_K2:  # DBA: the geometric keys' scores add to the semantic ones
            s += scores(q2a, q2b, k2v, k2c, K2_KIND, QBLOCK, BLOCK_N, BLOCK_DK2, BITS)
        s = tl.where(n_mask[None, :], s, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, axis=1))
        alpha = tl.exp(m - m_new)
        p = tl.exp(s - m_new[:, None])
        l = l * alpha + tl.sum(p, axis=1)
        acc_a, acc_b = accumulate(acc_a, acc_b, alpha, p.to(tl.float16), vv, vc, V_KIND, QBLOCK, BLOCK_N, BLOCK_DV,
                                  BITS)
        m = m_new
        kv, kc, vv, vc = kv_next, kc_next, vv_next, vc_next
        if HAS_K2:
            k2v, k2c = k2v_next, k2c_next
    row = (bh * SLOTS + slot0 + split) * G + g          # only the G real query rows are kept
    tl.store(PM + row, m, mask=g_mask)
    tl.store(PL + row, l, mask=g_mask)
    if V_KIND == 2:  # even columns from acc_a, odd ones from acc_b
        j = tl.arange(0, BLOCK_DV // 2)
        out = PACC + row[:, None] * DV + 2 * j[None, :]
        tl.store(out, acc_a, mask=g_mask[:, None] & (2 * j < DV)[None, :])
        tl.store(out + 1, acc_b, mask=g_mask[:, None] & (2 * j + 1 < DV)[None, :])
    else:
        dv = tl.arange(0, BLOCK_DV)
        tl.store(PACC + row[:, None] * DV + dv[None, :], acc_a, mask=g_mask[:, None] & (dv < DV)[None, :])


@triton.jit
def _merge_kernel(PM, PL, PACC, O, so_b, so_h, H_KV, G, D, SLOTS, BLOCK_S: tl.constexpr, BLOCK_G: tl.constexpr,
                  BLOCK_D: tl.constexpr):
    """One program per (batch, KV head): merge the spans' (max, sum, accumulator) into the output rows.

    Loads BLOCK_S spans at a time (one wide load per chunk instead of one round trip per span).
    """
    bh = tl.program_id(0)
    b, hk = (bh // H_KV).to(tl.int64), (bh % H_KV).to(tl.int64)
    s = tl.arange(0, BLOCK_S)[:, None]
    g = tl.arange(0, BLOCK_G)[None, :]
    d = tl.arange(0, BLOCK_D)
    m = tl.full([BLOCK_G], float("-inf"), tl.float32)
    l = tl.zeros([BLOCK_G], tl.float32)
    acc = tl.zeros([BLOCK_G, BLOCK_D], tl.float32)
    for first in range(0, SLOTS, BLOCK_S):
        live = ((first + s) < SLOTS) & (g < G)                                    # (S, G)
        row = (bh * SLOTS + first + s) * G + g
        m_s = tl.load(PM + row, mask=live, other=float("-inf"))
        l_s = tl.load(PL + row, mask=live, other=0.0)
        a_s = tl.load(PACC + row[:, :, None] * D + d[None, None, :], mask=live[:, :, None] & (d < D)[None, None, :],
                      other=0.0)
        m_new = tl.maximum(m, tl.max(m_s, axis=0))
        safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp(m - safe)
        beta = tl.exp(m_s - safe[None, :])                                        # (S, G)
        l = l * alpha + tl.sum(l_s * beta, axis=0)
        acc = acc * alpha[:, None] + tl.sum(a_s * beta[:, :, None], axis=0)
        m = m_new
    gg = tl.arange(0, BLOCK_G)
    out = acc / tl.where(gg < G, l, 1.0)[:, None]
    mask = (gg < G)[:, None] & (d < D)[None, :]
    tl.store(O + b * so_b + (hk * G + gg)[:, None] * so_h + d[None, :], out.to(O.dtype.element_ty), mask=mask)


class Segment:
    """One stretch of a cached key/value pair: codes (or dense values) and scales, with its kind.

    ``k``/``v``: (B, H_kv, ≥L, D) dense, (B, H_kv, ≥L, D) int8 for q8, (B, H_kv, ≥L, D/2)
    uint8 for q4; ``k_scales``/``v_scales``: (B, H_kv, ≥L, D/b) float16, or None when dense.
    ``k2`` (with ``k2_scales``, ``k2_kind``) is DBA's second key part (the geometric keys),
    scored against ``kv_decode``'s ``q2``. Only the first ``length`` tokens are read;
    ``length`` may be a one-element integer tensor on the device (module docstring).
    """

    def __init__(self, k: Tensor, k_scales: Tensor | None, k_kind: str, v: Tensor, v_scales: Tensor | None,
                 v_kind: str, length: int | Tensor, k2: Tensor | None = None, k2_scales: Tensor | None = None,
                 k2_kind: str = "dense") -> None:
        self.k, self.k_scales, self.k_kind = k, k_scales, k_kind
        self.v, self.v_scales, self.v_kind = v, v_scales, v_kind
        self.k2, self.k2_scales, self.k2_kind = k2, k2_scales, k2_kind
        self.length = length

    @property
    def extent(self) -> int:
        """Tokens the grid must cover: the length, or the buffer's capacity when the length is on the device."""
        return self.k.shape[2] if isinstance(self.length, Tensor) else self.length


def _scale_strides(scales: Tensor | None) -> tuple[int, int, int]:
    return (0, 0, 0) if scales is None else (scales.stride(0), scales.stride(1), scales.stride(2))


class Config(NamedTuple):
    """One fixed launch configuration (no autotuning): tokens a tile, tokens a program (the split), warps, stages."""

    block_n: int
    tokens: int
    warps: int
    stages: int


def config(length: int, units: int, sms: int) -> Config:
    """The shipped configuration, from the shape alone (no autotuning).

    ``units`` = B · H_kv programs per span; ``kv_decode`` cuts more spans when the grid would
    not fill the GPU twice. Measured on an H200 (T 8192, B 8, H 32, graph replay, session 5's
    kernel): 64 tokens a tile, 256 a program, 4 warps, 3 stages gave q8 0.151 / q4 0.155 ms;
    512 a program 0.139 / 0.153 (hence 512: half the partial results to write and merge),
    1 stage 0.133 / 0.156, 128-token tiles 0.199 / 0.156, 32-token tiles 0.166 / 0.174.
    ``benchmarks/kernels/kv_decode_sweep.py`` times the candidates side by side with the
    current tiles; pass one as ``kv_decode(..., tuning=)``.
    """
    return Config(BLOCK_N, TOKENS_PER_PROGRAM, 4, 3)


def _width(t: Tensor, kind: str) -> int:
    """Head width of a cached tensor (q4 packs two values a byte)."""
    return t.shape[-1] * (2 if kind == "q4" else 1)


def _check(q: Tensor, segments: list[Segment], block_size: int, q2: Tensor | None) -> tuple[int, int, int, int]:
    """(H_kv, G, D_k2, D_v) after checking the shapes and block size (ValueError naming what is wrong)."""
    b, h, t, dim = q.shape
    h_kv = segments[0].k.shape[1]
    if t != 1 or h % h_kv:
        raise ValueError(f"kv_decode: one query per head and H divisible by H_kv expected; got q {tuple(q.shape)}, "
                         f"H_kv {h_kv}")
    if q2 is not None and any(seg.k2 is None for seg in segments):
        raise ValueError("kv_decode: with a second query part (q2) every segment needs its k2")
    dim2 = q2.shape[-1] if q2 is not None else 0
    dim_v = _width(segments[0].v, segments[0].v_kind)
    for width in (dim, dim_v) + ((dim2,) if q2 is not None else ()):
        if block_size & (block_size - 1) or block_size > max(16, next_power_of_2(width)):
            raise ValueError(f"kv_decode: the quantisation block size must be a power of two ≤ the head width; "
                             f"got {block_size} for width {width}")
    return h_kv, h // h_kv, dim2, dim_v


def kv_decode(q: Tensor, segments: list[Segment], block_size: int, scale: float, q2: Tensor | None = None,
              scale2: float = 1.0, tuning: Config | None = None) -> Tensor:
    """Attention of q (B, H, 1, D) over the concatenation of ``segments`` → (B, H, 1, D_v) in q's dtype.

    DBA passes its semantic query as ``q`` and its geometric query as ``q2`` (scales a and b):
    scores are scale · q·k + scale2 · q2·k2, every segment then carrying its ``k2``.
    ``tuning`` replaces the shipped ``config`` for every segment (the benchmark's sweep).
    """
    h_kv, group, dim2, dim_v = _check(q, segments, block_size, q2)
    b, h, _, dim = q.shape
    q = q if q.stride(-1) == 1 else q.contiguous()
    q2 = q2 if q2 is None or q2.stride(-1) == 1 else q2.contiguous()
    block_g = max(16, next_power_of_2(group))
    sms = torch.cuda.get_device_properties(q.device).multi_processor_count if q.is_cuda else 1
    plans = []
    for seg in segments:
        extent = seg.extent
        if extent == 0:
            continue
        block_n, per_program, warps, stages = tuning or config(extent, b * h_kv, sms)
        wanted = max(triton.cdiv(extent, per_program), triton.cdiv(2 * sms, b * h_kv))
        splits = max(1, min(triton.cdiv(extent, block_n), wanted))
        span = triton.cdiv(triton.cdiv(extent, splits), block_n) * block_n
        plans.append((seg, triton.cdiv(extent, span), span, block_n, warps, stages))
    slots = sum(p[1] for p in plans)
    pm = torch.empty((b * h_kv, slots, group), dtype=torch.float32, device=q.device)
    pl = torch.empty_like(pm)
    pacc = torch.empty((b * h_kv, slots, group, dim_v), dtype=torch.float32, device=q.device)
    slot0 = 0
    for seg, splits, span, block_n, warps, stages in plans:
        k2 = seg.k2 if q2 is not None and seg.k2 is not None else seg.k
        k2_scales = seg.k2_scales if q2 is not None else None
        k2_kind = seg.k2_kind if q2 is not None else "dense"
        on_device = isinstance(seg.length, Tensor)
        _kv_decode_kernel[(b * h_kv, splits)](
            q, seg.k, seg.k_scales if seg.k_scales is not None else seg.k, q2 if q2 is not None else q, k2,
            k2_scales if k2_scales is not None else k2, seg.v, seg.v_scales if seg.v_scales is not None else seg.v,
            seg.length if on_device else pm, pm, pl, pacc, q.stride(0), q.stride(1), *seg.k.stride(),
            *_scale_strides(seg.k_scales), *(q2.stride()[:2] if q2 is not None else (0, 0)), *k2.stride(),
            *_scale_strides(k2_scales), *seg.v.stride(), *_scale_strides(seg.v_scales), seg.extent, h_kv, group, dim,
            dim2, dim_v, scale, scale2, span, slot0, slots, K_KIND=KINDS[seg.k_kind], K2_KIND=KINDS[k2_kind],
            V_KIND=KINDS[seg.v_kind], HAS_K2=q2 is not None, L_ON_DEVICE=on_device, QBLOCK=block_size,
            BLOCK_G=block_g, BLOCK_N=block_n, BLOCK_DK=block_width(dim, seg.k_kind),
            BLOCK_DK2=block_width(max(dim2, 1), k2_kind), BLOCK_DV=block_width(dim_v, seg.v_kind), BITS=BITS,
            num_warps=warps, num_stages=stages)
        slot0 += splits
    out = torch.empty((b, h, 1, dim_v), dtype=q.dtype, device=q.device)
    merge(pm, pl, pacc, out)
    return out


def merge(pm: Tensor, pl: Tensor, pacc: Tensor, out: Tensor) -> None:
    """Write ``out`` (B, H, 1, D_v) from the spans' partial (max, sum, accumulator) of ``_kv_decode_kernel``.

    ``pm``/``pl``: (B · H_kv, slots, G) float32; ``pacc``: (B · H_kv, slots, G, D_v). Its own
    function so the benchmark can time the second launch alone.
    """
    units, slots, group, dim_v = pacc.shape
    h_kv = units // out.shape[0]
    _merge_kernel[(units,)](pm, pl, pacc, out, out.stride(0), out.stride(1), h_kv, group, dim_v, slots,
                            BLOCK_S=MERGE_CHUNK, BLOCK_G=next_power_of_2(group), BLOCK_D=next_power_of_2(dim_v),
                            num_warps=4)
