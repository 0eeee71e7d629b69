"""Split one GQA attention layer's query/key weights into DBA's semantic and geometric paths.

The teacher (Llama, rotate-half RoPE over the whole head of width ``hd``) scores

    s_h(i, j) = Σ_k  q_{h,k}(x_i)ᵀ · Rot(θ_k·(j−i)) · k_{g,k}(x_j) / √hd

where k < hd/2 indexes the RoPE frequency pairs (dims k and k + hd/2), θ_k = base^(−2k/hd)
(after any scaling), and g = h // (H / H_kv) is the key/value head of query head h.

**RoPE decision.** The pairs are partitioned, never mixed:

* the ``geo_head/2`` *highest-frequency* pairs (k < m) become the geometric path, copied
  unchanged: the student's geometric RoPE runs with ``rope_base' = base^(geo_head/hd)``,
  so its frequencies base'^(−2i/geo_head) equal the teacher's θ_0 … θ_{m−1} exactly (the
  same ``rope_scaling`` rule, applied elementwise to identical raw frequencies, gives
  identical scaled ones). No RoPE is re-applied to a resized head: the geometric path
  *is* the teacher's positional sub-space, so its positional behaviour is kept exactly;
* the remaining *low-frequency* pairs (k ≥ m, the slowest rotations, nearly constant over
  a context) lose their rotation and form the semantic path: per key/value group the
  position-free bilinear forms M_h = W_Q,hᵀ·W_K,g (h in group g) are stacked and factorised
  by a truncated SVD. Stacking makes the key factor shared by the group (as GQA shares the
  key head), and Eckart–Young makes the rank-r result the best possible in Frobenius norm:
  the kept energy is Σ_{i<r} σ_i² / Σ σ_i². Factors are balanced (U·Σ^½ for queries,
  Σ^½·Vᵀ for keys). Dropping the low frequencies' rotation is the one approximation of the
  mapping; ``dropped_frequency`` in the report is the fastest rotation dropped (θ_m, per
  token), so 1/θ_m tells over how many tokens the approximation stays good.

The DBA layer scales its paths by 1/√d_sem_head and 1/√d_geo_head instead of the
teacher's 1/√hd; the query weights absorb the ratio so scores are unchanged. At full rank
(sem_head ≥ hd − geo_head) the semantic path reproduces the NoPE part exactly; with
geo_head = hd every pair is geometric and the student's logits equal the teacher's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class FactoredAttention:
    """DBA query/key weights for one layer and the bilinear energy they keep.

    Weights are (out, d_model) in the teacher's dtype; energies are float64 sums over the
    layer: ``geo_energy`` = Σ_h ‖W_Qgeo,hᵀ W_Kgeo,g‖²_F (kept exactly), ``sem_total`` /
    ``sem_kept`` = Σ_groups Σ σ_i² over all / the kept singular values.
    """

    q_sem: Tensor
    k_sem: Tensor
    q_geo: Tensor
    k_geo: Tensor
    geo_energy: float
    sem_total: float
    sem_kept: float
    singular_values: list[Tensor]

    @property
    def kept(self) -> float:
        """Fraction of the two paths' bilinear energy the initialisation keeps (1.0 when nothing to keep)."""
        total = self.geo_energy + self.sem_total
        return 1.0 if total == 0 else (self.geo_energy + self.sem_kept) / total


def pair_dims(head_dim: int, geo_head: int) -> tuple[Tensor, Tensor]:
    """Teacher head dims of the geometric path (rotate-half order) and of the semantic path."""
    half, m = head_dim // 2, geo_head // 2
    geo = torch.cat([torch.arange(0, m), torch.arange(half, half + m)])
    sem = torch.cat([torch.arange(m, half), torch.arange(half + m, head_dim)])
    return geo, sem


def factor_attention(wq: Tensor, wk: Tensor, n_heads: int, n_kv_heads: int, geo_head: int, sem_head: int) -> FactoredAttention:
    """Teacher q_proj (H·hd, d) and k_proj (H_kv·hd, d) → DBA q_sem/k_sem/q_geo/k_geo weights."""
    d = wq.shape[1]
    hd, rep = wq.shape[0] // n_heads, n_heads // n_kv_heads
    geo_dims, sem_dims = pair_dims(hd, geo_head)
    q = wq.double().view(n_heads, hd, d)
    k = wk.double().view(n_kv_heads, hd, d)
    q_geo = q[:, geo_dims] * math.sqrt(geo_head / hd)
    k_geo = k[:, geo_dims]
    geo_energy = sum(float(((q[h, geo_dims] @ q[h, geo_dims].T) * (k[h // rep, geo_dims] @ k[h // rep, geo_dims].T)).sum())
                     for h in range(n_heads))
    q_sem, k_sem = q.new_zeros(n_heads, sem_head, d), q.new_zeros(n_kv_heads, sem_head, d)
    sem_total = sem_kept = 0.0
    spectra: list[Tensor] = []
    for g in range(n_kv_heads):
        a, b, sigma = group_factors(q[g * rep:(g + 1) * rep, sem_dims], k[g, sem_dims])
        r = min(sem_head, sigma.numel())
        q_sem[g * rep:(g + 1) * rep, :r] = a[:, :r] * math.sqrt(sem_head / hd)
        k_sem[g, :r] = b[:r]
        spectra.append(sigma)
        sem_total += float((sigma ** 2).sum())
        sem_kept += float((sigma[:r] ** 2).sum())
    dtype = wq.dtype
    return FactoredAttention(q_sem=q_sem.reshape(-1, d).to(dtype), k_sem=k_sem.reshape(-1, d).to(dtype),
                             q_geo=q_geo.reshape(-1, d).to(dtype), k_geo=k_geo.reshape(-1, d).to(dtype),
                             geo_energy=geo_energy, sem_total=sem_total, sem_kept=sem_kept, singular_values=spectra)


def group_factors(q: Tensor, k: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """SVD of the stacked forms S = [Q_1ᵀK; …; Q_Gᵀ K] (G·d × d) without building S.

    q (G, p, d), k (p, d). With thin QRs Pᵀ = U₁R₁ (P = [Q_1 … Q_G], p × G·d) and
    Kᵀ = U₂R₂, S = U₁(R₁R₂ᵀ)U₂ᵀ, so the p × p SVD R₁R₂ᵀ = U'ΣV'ᵀ gives S's singular
    values Σ and vectors U₁U', U₂V'. Returns per-head query factors (G, p, d) — rows i of
    head h: (U₁U'Σ^½)_hᵀ — the shared key factor (p, d) = Σ^½(U₂V')ᵀ, and Σ (descending).
    """
    n, p, d = q.shape
    if p == 0:
        return q.new_zeros(n, 0, d), k.new_zeros(0, d), q.new_zeros(0)
    u1, r1 = torch.linalg.qr(q.permute(0, 2, 1).reshape(n * d, p))
    u2, r2 = torch.linalg.qr(k.T)
    us, sigma, vts = torch.linalg.svd(r1 @ r2.T)
    root = sigma.sqrt()
    left = (u1 @ us) * root  # (G·d, p)
    keys = root[:, None] * (u2 @ vts.T).T  # (p, d)
    return left.view(n, d, p).permute(0, 2, 1), keys, sigma
