"""A narrower DBA value path (``v_dim < d_model``) from the teacher's V and O, GQA-aware.

Head h of the teacher adds W_O,h · Σ_j a_hij · W_V,g x_j to the residual (W_O,h: the d × hd
columns of o_proj for head h; W_V,g: the hd × d rows of v_proj for its key/value head g).
For fixed attention weights a_hij the map x_j ↦ output is the product M_h = W_O,h·W_V,g,
so the value path has the same shape of problem as the query/key forms: per key/value group
the stacked [M_h]_h∈g share the right factor (the cached value head). The truncated SVD of
the stack (``factor.group_factors``) gives the new shared value rows (r × d) and per-head
output columns (d × r), optimal in Frobenius norm; the kept energy is Σ_{i<r} σᵢ²/Σ σᵢ².
Only used when ``v_dim < d_model``; at ``v_dim = d_model`` V and O are copied exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from caramba.engine.upcycle.factor import group_factors


@dataclass(frozen=True)
class FactoredValues:
    """New v_proj (H_kv·r, d) and o_proj (d, H·r) weights, and the energy they keep."""

    v_proj: Tensor
    o_proj: Tensor
    total: float
    kept: float


def factor_values(wv: Tensor, wo: Tensor, n_heads: int, n_kv_heads: int, v_head: int) -> FactoredValues:
    """Teacher v_proj (H_kv·hd, d) and o_proj (d, H·hd) → rank-``v_head`` value path per head."""
    d = wo.shape[0]
    hd, rep = wv.shape[0] // n_kv_heads, n_heads // n_kv_heads
    v = wv.double().view(n_kv_heads, hd, d)
    o = wo.double().view(d, n_heads, hd).permute(1, 2, 0)  # (H, hd, d): W_O,hᵀ
    new_v, new_o = v.new_zeros(n_kv_heads, v_head, d), v.new_zeros(n_heads, v_head, d)
    total = kept = 0.0
    for g in range(n_kv_heads):
        left, right, sigma = group_factors(o[g * rep:(g + 1) * rep], v[g])
        r = min(v_head, sigma.numel())
        new_o[g * rep:(g + 1) * rep, :r], new_v[g, :r] = left[:, :r], right[:r]
        total, kept = total + float((sigma ** 2).sum()), kept + float((sigma[:r] ** 2).sum())
    o_proj = new_o.permute(2, 0, 1).reshape(d, n_heads * v_head)
    return FactoredValues(v_proj=new_v.reshape(-1, d).to(wv.dtype), o_proj=o_proj.to(wo.dtype), total=total, kept=kept)
