"""DBA attention in one flash-style pass: two score terms, causal, GQA, forward and backward in Triton.

Math (the decoupled attention of ``engine/model/layers/attention_decoupled.py``), per head h
with key/value head h // G (GQA, G = H / H_kv):

    s_ij = a · q_sem,i · k_sem,j + b · q_geo,i · k_geo,j      (a, b: the two paths' scales)
    P = softmax_j(s) over j ≤ i (causal) or all j,   O = P V,   lse_i = log Σ_j exp s_ij

Forward (Dao et al., FlashAttention-2): one program per (query block, batch·head) walks
the key blocks with a running max, sum and accumulator (online softmax); the two QKᵀ
products are summed in registers, so the concatenated [q_sem, q_geo] / [k_sem, k_geo]
tensors the SDPA path builds are never written. It returns O and the float32 lse.

Backward, with D_i = Σ_d dO_id O_id − dlse_i (the lse is an output too: callers merge a
null key through it, and dlse enters exactly as a shift of D):

    dP = dO Vᵀ,  dS = P ⊙ (dP − D),  dV = Pᵀ dO,
    dq_sem = a · dS k_sem,  dq_geo = b · dS k_geo,  dk_sem = a · dSᵀ q_sem,  dk_geo = b · dSᵀ q_geo

in two kernels (``backward.py``) that recompute P from lse: one program per (key block, batch·KV head)
accumulates dk_sem, dk_geo, dv over the G query heads sharing it (no atomics, no per-head
copies to sum), and one per (query block, batch·head) accumulates dq_sem, dq_geo.

Head widths are padded to a power of two ≥ 16 with masks (tl.dot's smallest tile); float32
inputs use IEEE float32 products, bf16/fp16 inputs their own with float32 accumulation.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from caramba.kernels.dba_attention.backward import dkdv_kernel, dq_kernel
from caramba.kernels.dba_attention.tiles import LN2, LOG2E, dot, load, scores
from caramba.kernels.launch import next_power_of_2


@triton.jit
def _forward_step(qs, qg, m, l, acc, KS, KG, V, k_base_s, k_base_g, v_base, ks_t, kg_t, v_t, rows, start_n, T,
                  DS, DG, DV, a2, b2, MASK: tl.constexpr, CAUSAL: tl.constexpr, IEEE: tl.constexpr,
                  BLOCK_N: tl.constexpr, BS: tl.constexpr, BG: tl.constexpr, BV: tl.constexpr):
    """One key block of the online softmax (scores in base 2); MASK applies the length and causal masks."""
    cols = start_n + tl.arange(0, BLOCK_N)
    ks = load(KS, k_base_s, cols, ks_t, T, tl.arange(0, BS), DS)
    kg = load(KG, k_base_g, cols, kg_t, T, tl.arange(0, BG), DG)
    s = scores(qs, qg, ks, kg, a2, b2, IEEE)
    if MASK:
        keep = (cols < T)[None, :]
        if CAUSAL:
            keep = keep & (cols[None, :] <= rows[:, None])
        s = tl.where(keep, s, float("-inf"))
    m_new = tl.maximum(m, tl.max(s, axis=1))
    alpha = tl.exp2(m - m_new)
    p = tl.exp2(s - m_new[:, None])
    l = l * alpha + tl.sum(p, axis=1)
    v = load(V, v_base, cols, v_t, T, tl.arange(0, BV), DV)
    acc = acc * alpha[:, None] + dot(p.to(v.dtype), v, IEEE)
    return m_new, l, acc


@triton.jit
def _forward_kernel(QS, QG, KS, KG, V, O, LSE,
                    qs_b, qs_h, qs_t, qg_b, qg_h, qg_t, ks_b, ks_h, ks_t, kg_b, kg_h, kg_t, v_b, v_h, v_t,
                    o_b, o_h, o_t, T, H, G, DS, DG, DV, a2, b2,
                    CAUSAL: tl.constexpr, IEEE: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                    BS: tl.constexpr, BG: tl.constexpr, BV: tl.constexpr):
    """One program per (query block, batch · head). Causal: the key blocks left of the diagonal
    block run unmasked (BLOCK_M is a multiple of BLOCK_N), the diagonal blocks masked."""
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    batch, head = (bh // H).to(tl.int64), (bh % H).to(tl.int64)
    kv = head // G
    rows = start_m + tl.arange(0, BLOCK_M)
    cv = tl.arange(0, BV)
    qs = load(QS, batch * qs_b + head * qs_h, rows, qs_t, T, tl.arange(0, BS), DS)
    qg = load(QG, batch * qg_b + head * qg_h, rows, qg_t, T, tl.arange(0, BG), DG)
    m = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BV], tl.float32)
    k_s, k_g, k_v = batch * ks_b + kv * ks_h, batch * kg_b + kv * kg_h, batch * v_b + kv * v_h
    if CAUSAL:  # the key blocks left of the diagonal (unmasked), then the diagonal ones
        lo, hi = start_m, tl.minimum(T, start_m + BLOCK_M)
    else:
        lo, hi = 0, T
    for start_n in range(0, lo, BLOCK_N):  # empty unless causal
        m, l, acc = _forward_step(qs, qg, m, l, acc, KS, KG, V, k_s, k_g, k_v, ks_t, kg_t, v_t, rows, start_n,
                                  T, DS, DG, DV, a2, b2, False, CAUSAL, IEEE, BLOCK_N, BS, BG, BV)
    for start_n in range(lo, hi, BLOCK_N):
        m, l, acc = _forward_step(qs, qg, m, l, acc, KS, KG, V, k_s, k_g, k_v, ks_t, kg_t, v_t, rows, start_n,
                                  T, DS, DG, DV, a2, b2, True, CAUSAL, IEEE, BLOCK_N, BS, BG, BV)
    out = acc / l[:, None]
    o_mask = (rows < T)[:, None] & (cv < DV)[None, :]
    tl.store(O + batch * o_b + head * o_h + rows[:, None] * o_t + cv[None, :], out.to(O.dtype.element_ty),
             mask=o_mask)
    tl.store(LSE + bh.to(tl.int64) * T + rows, (m + tl.log2(l)) * LN2, mask=rows < T)


def _config(t: int, device: torch.device) -> tuple[int, int, int]:
    """(BLOCK, num_warps, num_stages) from the sequence length and device alone (no autotuning).

    Square BLOCK × BLOCK tiles (the causal loops split at the diagonal block, which needs the
    query block a multiple of the key block): 64 on the GPU, where DBA's narrow heads leave
    registers for them; 16 in the CPU interpreter, so tiny test shapes still span several blocks.
    """
    if device.type != "cuda":
        return 16, 4, 1
    return min(64, max(16, next_power_of_2(t))), 4, 3  # 3 stages: fwd+bwd 5.59 vs 6.14 ms (2) at 16k on an H200


def per_head(units: int, blocks: int, device: torch.device) -> bool:
    """Whether the dk/dv kernel runs one program per query head (then sums each group) instead of per KV head.

    Per KV head needs no extra memory but launches G× fewer programs; it is taken when
    those still fill the GPU twice over (and always in the interpreter).
    """
    if device.type != "cuda":
        return False
    return units * blocks < 2 * torch.cuda.get_device_properties(device).multi_processor_count


def _strides(x: Tensor) -> tuple[int, int, int]:
    """(batch, head, token) strides of a (B, H, T, D) tensor with unit stride along D."""
    return x.stride(0), x.stride(1), x.stride(2)


def _unit(x: Tensor) -> Tensor:
    return x if x.stride(-1) == 1 else x.contiguous()


def _widths(ds: int, dg: int, dv: int) -> tuple[int, int, int]:
    """Head widths padded to tl.dot's tiles: a power of two, at least 16."""
    return tuple(max(16, next_power_of_2(d)) for d in (ds, dg, dv))  # type: ignore[return-value]


class DBAAttentionFunction(torch.autograd.Function):
    """``apply(q_sem, q_geo, k_sem, k_geo, v, sem_scale, geo_scale, causal)`` → (out, lse).

    q_* (B, H, T, d_*), k_*/v (B, H_kv, T, d_*) with H divisible by H_kv; any strides with a
    unit last stride (the layers' transposed views). out (B, H, T, d_v) in v's dtype, lse
    (B, H, T) float32. Both outputs are differentiable.
    """

    @staticmethod
    def forward(ctx, q_sem: Tensor, q_geo: Tensor, k_sem: Tensor, k_geo: Tensor, v: Tensor, sem_scale: float,
                geo_scale: float, causal: bool) -> tuple[Tensor, Tensor]:
        q_sem, q_geo, k_sem, k_geo, v = (_unit(x) for x in (q_sem, q_geo, k_sem, k_geo, v))
        bsz, h, t, ds = q_sem.shape
        h_kv, dg, dv = k_sem.shape[1], q_geo.shape[-1], v.shape[-1]
        if h % h_kv or k_sem.shape[2] != t or k_geo.shape[2] != t or v.shape[2] != t:
            raise ValueError(f"dba_attention: queries and keys must have one length and H divisible by H_kv; got "
                             f"q_sem {tuple(q_sem.shape)}, k_sem {tuple(k_sem.shape)}, k_geo {tuple(k_geo.shape)}, "
                             f"v {tuple(v.shape)}")
        block, warps, stages = _config(t, q_sem.device)
        bs, bg, bv = _widths(ds, dg, dv)
        out = torch.empty(bsz, h, t, dv, dtype=v.dtype, device=v.device)
        lse = torch.empty(bsz, h, t, dtype=torch.float32, device=v.device)
        _forward_kernel[(triton.cdiv(t, block), bsz * h)](
            q_sem, q_geo, k_sem, k_geo, v, out, lse, *_strides(q_sem), *_strides(q_geo), *_strides(k_sem),
            *_strides(k_geo), *_strides(v), *_strides(out), t, h, h // h_kv, ds, dg, dv,
            sem_scale * LOG2E.value, geo_scale * LOG2E.value, CAUSAL=causal, IEEE=q_sem.dtype == torch.float32,
            BLOCK_M=block, BLOCK_N=block, BS=bs, BG=bg, BV=bv, num_warps=warps, num_stages=stages)
        ctx.save_for_backward(q_sem, q_geo, k_sem, k_geo, v, out, lse)
        ctx.scales, ctx.causal = (sem_scale, geo_scale), causal
        return out, lse

    @staticmethod
    def backward(ctx, d_out: Tensor | None, d_lse: Tensor | None) -> tuple[Tensor | None, ...]:
        q_sem, q_geo, k_sem, k_geo, v, out, lse = ctx.saved_tensors
        sem_scale, geo_scale = ctx.scales
        bsz, h, t, ds = q_sem.shape
        h_kv, dg, dv = k_sem.shape[1], q_geo.shape[-1], v.shape[-1]
        d_out = torch.zeros_like(out) if d_out is None else _unit(d_out)
        delta = (d_out.float() * out.float()).sum(-1)
        if d_lse is not None:
            delta = delta - d_lse.float()
        delta = delta.contiguous()
        block, warps, stages = _config(t, q_sem.device)
        bs, bg, bv = _widths(ds, dg, dv)
        group = h // h_kv
        split = group > 1 and per_head(bsz * h_kv, triton.cdiv(t, block), v.device)
        units = bsz * (h if split else h_kv)
        dks = torch.empty(units, t, ds, dtype=k_sem.dtype if not split else torch.float32, device=v.device)
        dkg = torch.empty(units, t, dg, dtype=k_geo.dtype if not split else torch.float32, device=v.device)
        dvv = torch.empty(units, t, dv, dtype=v.dtype if not split else torch.float32, device=v.device)
        dqs = torch.empty(bsz, h, t, ds, dtype=q_sem.dtype, device=v.device)
        dqg = torch.empty(bsz, h, t, dg, dtype=q_geo.dtype, device=v.device)
        common = (*_strides(q_sem), *_strides(q_geo), *_strides(k_sem), *_strides(k_geo), *_strides(v),
                  *_strides(d_out), t, h, group, ds, dg, dv, sem_scale, geo_scale, sem_scale * LOG2E.value,
                  geo_scale * LOG2E.value)
        meta = dict(CAUSAL=ctx.causal, IEEE=q_sem.dtype == torch.float32, BLOCK_M=block, BLOCK_N=block,
                    BS=bs, BG=bg, BV=bv, num_warps=warps, num_stages=stages)
        dkdv_kernel[(triton.cdiv(t, block), units)](q_sem, q_geo, k_sem, k_geo, v, d_out, lse, delta,
                                                     dks, dkg, dvv, *common, PER_HEAD=split, **meta)
        dq_kernel[(triton.cdiv(t, block), bsz * h)](q_sem, q_geo, k_sem, k_geo, v, d_out, lse, delta, dqs, dqg,
                                                     *common, PER_HEAD=False, **meta)

        def kv_shaped(grad: Tensor, like: Tensor) -> Tensor:
            if split:  # per-head partials (float32): sum each group of G query heads
                grad = grad.view(bsz, h_kv, group, t, -1).sum(2)
            return grad.view(bsz, h_kv, t, -1).to(like.dtype)

        return dqs, dqg, kv_shaped(dks, k_sem), kv_shaped(dkg, k_geo), kv_shaped(dvv, v), None, None, None
