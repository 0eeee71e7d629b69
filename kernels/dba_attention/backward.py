"""The DBA backward kernels (math in ``kernel.py``'s docstring): dk_sem, dk_geo, dv per key block, dq per query block.

Both kernels walk one side of the (query block × key block) grid and recompute the same
tile, P and dS, from the saved lse (``_tile``); they differ only in what they accumulate.
Each walk runs in two spans: the tiles that need the length/causal masks
(the diagonal block when causal, every block otherwise) and the unmasked rest.
"""

from __future__ import annotations

import triton
import triton.language as tl

from caramba.kernels.dba_attention.tiles import LOG2E, dot, load, scores


@triton.jit
def _tile(qs, qg, ks, kg, v, do, lse2, delta, rows, cols, T, a2, b2, MASK: tl.constexpr, CAUSAL: tl.constexpr,
          IEEE: tl.constexpr):
    """P (float32) and dS = P ⊙ (dO Vᵀ − D) (in the inputs' dtype) of one query block × key block tile."""
    p = tl.exp2(scores(qs, qg, ks, kg, a2, b2, IEEE) - lse2[:, None])
    if MASK:
        keep = (rows < T)[:, None] & (cols < T)[None, :]
        if CAUSAL:
            keep = keep & (cols[None, :] <= rows[:, None])
        p = tl.where(keep, p, 0.0)
    return p, (p * (dot(do, tl.trans(v), IEEE) - delta[:, None])).to(qs.dtype)


@triton.jit
def _dkdv_step(ks, kg, v, dks, dkg, dv, QS, QG, DO, LSE, DELTA, q_s, q_g, d_o, stat, qs_t, qg_t, do_t, cols,
               start_m, T, DS, DG, DV, a2, b2, MASK: tl.constexpr, CAUSAL: tl.constexpr, IEEE: tl.constexpr,
               BLOCK_M: tl.constexpr, BS: tl.constexpr, BG: tl.constexpr, BV: tl.constexpr):
    """One query block's contribution to a key block's dk_sem, dk_geo (unscaled) and dv."""
    rows = start_m + tl.arange(0, BLOCK_M)
    qs = load(QS, q_s, rows, qs_t, T, tl.arange(0, BS), DS)
    qg = load(QG, q_g, rows, qg_t, T, tl.arange(0, BG), DG)
    do = load(DO, d_o, rows, do_t, T, tl.arange(0, BV), DV)
    lse2 = tl.load(LSE + stat + rows, mask=rows < T, other=0.0) * LOG2E
    delta = tl.load(DELTA + stat + rows, mask=rows < T, other=0.0)
    p, ds = _tile(qs, qg, ks, kg, v, do, lse2, delta, rows, cols, T, a2, b2, MASK, CAUSAL, IEEE)
    dv += dot(tl.trans(p.to(do.dtype)), do, IEEE)
    dks += dot(tl.trans(ds), qs, IEEE)
    dkg += dot(tl.trans(ds), qg, IEEE)
    return dks, dkg, dv


@triton.jit
def dkdv_kernel(QS, QG, KS, KG, V, DO, LSE, DELTA, DKS, DKG, DV_,
                 qs_b, qs_h, qs_t, qg_b, qg_h, qg_t, ks_b, ks_h, ks_t, kg_b, kg_h, kg_t, v_b, v_h, v_t,
                 do_b, do_h, do_t, T, H, G, DS, DG, DV, a, b, a2, b2,
                 CAUSAL: tl.constexpr, PER_HEAD: tl.constexpr, IEEE: tl.constexpr, BLOCK_M: tl.constexpr,
                 BLOCK_N: tl.constexpr, BS: tl.constexpr, BG: tl.constexpr, BV: tl.constexpr):
    """One program per (key block, batch · KV head), summing over the G query heads sharing it; or,
    PER_HEAD, per (key block, batch · head), its per-head gradients summed over the group afterwards.
    Causal: the diagonal query blocks masked (BLOCK_N is a multiple of BLOCK_M), the later ones unmasked."""
    start_n = tl.program_id(0) * BLOCK_N
    unit = tl.program_id(1)
    if PER_HEAD:
        batch, head0 = (unit // H).to(tl.int64), (unit % H).to(tl.int64)
        kv, heads = head0 // G, 1
    else:
        batch, kv = (unit // (H // G)).to(tl.int64), (unit % (H // G)).to(tl.int64)
        head0, heads = kv * G, G
    cols = start_n + tl.arange(0, BLOCK_N)
    cs, cg, cv = tl.arange(0, BS), tl.arange(0, BG), tl.arange(0, BV)
    ks = load(KS, batch * ks_b + kv * ks_h, cols, ks_t, T, cs, DS)
    kg = load(KG, batch * kg_b + kv * kg_h, cols, kg_t, T, cg, DG)
    v = load(V, batch * v_b + kv * v_h, cols, v_t, T, cv, DV)
    dks = tl.zeros([BLOCK_N, BS], tl.float32)
    dkg = tl.zeros([BLOCK_N, BG], tl.float32)
    dv = tl.zeros([BLOCK_N, BV], tl.float32)
    if CAUSAL:  # the query blocks that see this key block: the diagonal ones (masked), then every later one
        lo, hi = start_n, tl.minimum(T, start_n + BLOCK_N)
    else:
        lo, hi = 0, T
    for g in range(0, heads):
        head = head0 + g
        q_s, q_g, d_o = batch * qs_b + head * qs_h, batch * qg_b + head * qg_h, batch * do_b + head * do_h
        stat = (batch * H + head) * T
        for start_m in range(lo, hi, BLOCK_M):
            dks, dkg, dv = _dkdv_step(ks, kg, v, dks, dkg, dv, QS, QG, DO, LSE, DELTA, q_s, q_g, d_o, stat, qs_t,
                                      qg_t, do_t, cols, start_m, T, DS, DG, DV, a2, b2, True, CAUSAL, IEEE, BLOCK_M,
                                      BS, BG, BV)
        for start_m in range(hi, T, BLOCK_M):  # empty unless causal
            dks, dkg, dv = _dkdv_step(ks, kg, v, dks, dkg, dv, QS, QG, DO, LSE, DELTA, q_s, q_g, d_o, stat, qs_t,
                                      qg_t, do_t, cols, start_m, T, DS, DG, DV, a2, b2, False, CAUSAL, IEEE, BLOCK_M,
                                      BS, BG, BV)
    base = unit.to(tl.int64) * T
    mask = (cols < T)[:, None]
    tl.store(DKS + (base + cols)[:, None] * DS + cs[None, :], (dks * a).to(DKS.dtype.element_ty),
             mask=mask & (cs < DS)[None, :])
    tl.store(DKG + (base + cols)[:, None] * DG + cg[None, :], (dkg * b).to(DKG.dtype.element_ty),
             mask=mask & (cg < DG)[None, :])
    tl.store(DV_ + (base + cols)[:, None] * DV + cv[None, :], dv.to(DV_.dtype.element_ty),
             mask=mask & (cv < DV)[None, :])


@triton.jit
def _dq_step(qs, qg, do, lse2, delta, dqs, dqg, KS, KG, V, k_s, k_g, k_v, ks_t, kg_t, v_t, rows, start_n, T,
             DS, DG, DV, a2, b2, MASK: tl.constexpr, CAUSAL: tl.constexpr, IEEE: tl.constexpr,
             BLOCK_N: tl.constexpr, BS: tl.constexpr, BG: tl.constexpr, BV: tl.constexpr):
    """One key block's contribution to a query block's dq_sem, dq_geo (unscaled)."""
    cols = start_n + tl.arange(0, BLOCK_N)
    ks = load(KS, k_s, cols, ks_t, T, tl.arange(0, BS), DS)
    kg = load(KG, k_g, cols, kg_t, T, tl.arange(0, BG), DG)
    v = load(V, k_v, cols, v_t, T, tl.arange(0, BV), DV)
    _, ds = _tile(qs, qg, ks, kg, v, do, lse2, delta, rows, cols, T, a2, b2, MASK, CAUSAL, IEEE)
    dqs += dot(ds, ks, IEEE)
    dqg += dot(ds, kg, IEEE)
    return dqs, dqg


@triton.jit
def dq_kernel(QS, QG, KS, KG, V, DO, LSE, DELTA, DQS, DQG,
               qs_b, qs_h, qs_t, qg_b, qg_h, qg_t, ks_b, ks_h, ks_t, kg_b, kg_h, kg_t, v_b, v_h, v_t,
               do_b, do_h, do_t, T, H, G, DS, DG, DV, a, b, a2, b2,
               CAUSAL: tl.constexpr, PER_HEAD: tl.constexpr, IEEE: tl.constexpr, BLOCK_M: tl.constexpr,
               BLOCK_N: tl.constexpr, BS: tl.constexpr, BG: tl.constexpr, BV: tl.constexpr):
    """One program per (query block, batch · head): dq_sem, dq_geo over the key blocks it sees.
    Causal: the key blocks left of the diagonal unmasked (BLOCK_M is a multiple of BLOCK_N), the diagonal masked."""
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    batch, head = (bh // H).to(tl.int64), (bh % H).to(tl.int64)
    kv = head // G
    rows = start_m + tl.arange(0, BLOCK_M)
    cs, cg = tl.arange(0, BS), tl.arange(0, BG)
    qs = load(QS, batch * qs_b + head * qs_h, rows, qs_t, T, cs, DS)
    qg = load(QG, batch * qg_b + head * qg_h, rows, qg_t, T, cg, DG)
    do = load(DO, batch * do_b + head * do_h, rows, do_t, T, tl.arange(0, BV), DV)
    lse2 = tl.load(LSE + bh.to(tl.int64) * T + rows, mask=rows < T, other=0.0) * LOG2E
    delta = tl.load(DELTA + bh.to(tl.int64) * T + rows, mask=rows < T, other=0.0)
    dqs = tl.zeros([BLOCK_M, BS], tl.float32)
    dqg = tl.zeros([BLOCK_M, BG], tl.float32)
    k_s, k_g, k_v = batch * ks_b + kv * ks_h, batch * kg_b + kv * kg_h, batch * v_b + kv * v_h
    if CAUSAL:  # the key blocks this query block sees: every earlier one (unmasked), then the diagonal ones
        lo, hi = start_m, tl.minimum(T, start_m + BLOCK_M)
    else:
        lo, hi = 0, T
    for start_n in range(0, lo, BLOCK_N):  # empty unless causal
        dqs, dqg = _dq_step(qs, qg, do, lse2, delta, dqs, dqg, KS, KG, V, k_s, k_g, k_v, ks_t, kg_t, v_t, rows,
                            start_n, T, DS, DG, DV, a2, b2, False, CAUSAL, IEEE, BLOCK_N, BS, BG, BV)
    for start_n in range(lo, hi, BLOCK_N):
        dqs, dqg = _dq_step(qs, qg, do, lse2, delta, dqs, dqg, KS, KG, V, k_s, k_g, k_v, ks_t, kg_t, v_t, rows,
                            start_n, T, DS, DG, DV, a2, b2, True, CAUSAL, IEEE, BLOCK_N, BS, BG, BV)
    base = bh.to(tl.int64) * T
    mask = (rows < T)[:, None]
    tl.store(DQS + (base + rows)[:, None] * DS + cs[None, :], (dqs * a).to(DQS.dtype.element_ty),
             mask=mask & (cs < DS)[None, :])
    tl.store(DQG + (base + rows)[:, None] * DG + cg[None, :], (dqg * b).to(DQG.dtype.element_ty),
             mask=mask & (cg < DG)[None, :])
