"""``dba_attention``: DBA's two-term attention in one flash-style Triton pass, as the DBA layer calls it.

    out = dba_attention(q_sem, q_geo, k_sem, k_geo, v, sem_scale, geo_scale, causal,
                        null_k=None, null_v=None)        # (B, H, T, d_v)

with score a·q_sem·k_sem + b·q_geo·k_geo (a, b = ``sem_scale``, ``geo_scale``), GQA sharing
(k_*, v have H_kv heads) and queries as long as keys (prefill and training). The layer
(``engine/model/layers/attention_decoupled.py``) asks the dispatch
(``uses_triton("dba_attention", q_sem)``) and keeps its SDPA path otherwise, and for decode
steps, chunks after cached history and attention dropout, which this kernel does not do.

The optional learned null key/value (H_kv, 1, d_sem + d_geo) / (H_kv, 1, d_v), visible to
every query, is merged here through the kernel's log-sum-exp, in differentiable PyTorch:

    s₀ = a·q_sem·n_sem + b·q_geo·n_geo,  L = logaddexp(lse, s₀),
    out = e^(lse − L) · out_keys + e^(s₀ − L) · null_v

which is exactly softmax over [null, keys]; the kernel's backward takes the lse gradient.
"""

from __future__ import annotations

import torch
from torch import Tensor


def merge_null(out: Tensor, lse: Tensor, q_sem: Tensor, q_geo: Tensor, null_k: Tensor, null_v: Tensor,
               sem_scale: float, geo_scale: float) -> Tensor:
    """Add the null key/value to attention over the keys, given that attention's out and lse (docstring)."""
    group = q_sem.shape[1] // null_k.shape[0]
    ds = q_sem.shape[-1]
    keys = null_k[:, 0].float().repeat_interleave(group, 0)                    # (H, d_sem + d_geo)
    values = null_v[:, 0].float().repeat_interleave(group, 0)                  # (H, d_v)
    s0 = (torch.einsum("bhtd,hd->bht", q_sem.float(), keys[:, :ds]) * sem_scale
          + torch.einsum("bhtd,hd->bht", q_geo.float(), keys[:, ds:]) * geo_scale)
    total = torch.logaddexp(lse, s0)
    merged = out.float() * torch.exp(lse - total)[..., None] + torch.exp(s0 - total)[..., None] * values[:, None, :]
    return merged.to(out.dtype)


def dba_attention(q_sem: Tensor, q_geo: Tensor, k_sem: Tensor, k_geo: Tensor, v: Tensor, sem_scale: float,
                  geo_scale: float, causal: bool, null_k: Tensor | None = None,
                  null_v: Tensor | None = None) -> Tensor:
    """DBA attention through the Triton kernel (module docstring); the caller has checked the dispatch."""
    from caramba.kernels.dba_attention.kernel import DBAAttentionFunction

    out, lse = DBAAttentionFunction.apply(q_sem, q_geo, k_sem, k_geo, v, sem_scale, geo_scale, causal)
    if null_k is None or null_v is None:
        return out
    return merge_null(out, lse, q_sem, q_geo, null_k, null_v, sem_scale, geo_scale)
