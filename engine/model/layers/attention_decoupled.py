"""``AttentionLayer`` mode ``decoupled``: DBA, Decoupled Bottleneck Attention.

The query/key space is split in two paths that are scored separately and summed:

* a **semantic** path (``sem_dim`` features over all heads, no RoPE): *what* a token is;
* a **geometric** path (``geo_dim`` features, RoPE): *where* it is;

with one value path (``v_dim`` features, default ``d_model``):

    score(i, j) = q_sem,i·k_sem,j / √d_sem_head + q_geo,i·k_geo,j / √d_geo_head

computed as ONE attention call: each query is the concatenation [q_sem/√d_sem_head,
q_geo/√d_geo_head] and each key [k_sem, k_geo], so the dot product is exactly the sum
above and SDPA runs with ``scale=1``. Because sem_dim + geo_dim can be much smaller than
2·d_model, the KV cache (k_sem, k_geo, v, kept separately) holds
(sem_dim + geo_dim + v_dim)·n_kv_heads/n_heads values per token instead of 2·d_model.

Options: ``n_kv_heads`` shares all three paths GQA-style; ``tie_qk`` uses the query
projection of each path for its keys too; ``null_attn`` adds a learned key/value (one per
key/value head, no RoPE) that every query can attend to (an attention sink); ``gate``
multiplies each head's output by 2·σ(W_g x), with W_g = 0 at init (identity at init).

Kernel path: prefill and training without attention dropout (queries as long as keys) run
``kernels.dba_attention`` when the dispatch chooses it — the two score terms summed inside one
flash-style Triton kernel, GQA and the null key included, no concatenated q/k written. Decode
steps over a q8/q4 cache run ``kernels.kv_decode`` through ``ModelCache.attend`` (both score
terms and the null key in one pass over the codes); other decode steps, chunks after cached
history and dropout take the SDPA path below.

Shapes: x (B, T, d_model) → q_sem (B, H, T, ds), q_geo (B, H, T, dg), v (B, H_kv, T, dv)
→ out (B, T, d_model).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.attention import causal_sdpa
from caramba.engine.model.layers.rope import Rope
from caramba.kernels.dba_attention import dba_attention
from caramba.kernels.dispatch import uses_triton


class DecoupledAttention(nn.Module):
    """DBA: semantic (no RoPE) + geometric (RoPE) scores, one value path (module docstring)."""

    def __init__(
        self, d_model: int, n_heads: int, sem_dim: int, geo_dim: int, v_dim: int | None = None,
        n_kv_heads: int | None = None, rope: bool = True, rope_base: float = 10000.0,
        rope_scaling: dict[str, Any] | None = None, causal: bool = True, bias: bool = False, dropout: float = 0.0,
        tie_qk: bool = False, null_attn: bool = False, gate: bool = False,
    ) -> None:
        super().__init__()
        v_dim = v_dim or d_model
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads or n_heads
        if tie_qk and self.n_kv_heads != n_heads:
            raise ValueError("tie_qk needs n_kv_heads == n_heads (keys reuse the query projection)")
        self.sem_head, self.geo_head, self.v_head = sem_dim // n_heads, geo_dim // n_heads, v_dim // n_heads
        self.causal, self.dropout, self.tie_qk = causal, dropout, tie_qk
        kv = self.n_kv_heads
        self.q_sem = nn.Linear(d_model, sem_dim, bias=bias)
        self.q_geo = nn.Linear(d_model, geo_dim, bias=bias)
        self.k_sem = None if tie_qk else nn.Linear(d_model, kv * self.sem_head, bias=bias)
        self.k_geo = None if tie_qk else nn.Linear(d_model, kv * self.geo_head, bias=bias)
        self.v_proj = nn.Linear(d_model, kv * self.v_head, bias=bias)
        self.o_proj = nn.Linear(v_dim, d_model, bias=bias)
        self.rope = Rope(self.geo_head, rope_base, rope_scaling) if rope else None
        self.null_k = nn.Parameter(torch.randn(kv, 1, self.sem_head + self.geo_head) * 0.02) if null_attn else None
        self.null_v = nn.Parameter(torch.zeros(kv, 1, self.v_head)) if null_attn else None
        self.gate_proj = nn.Linear(d_model, n_heads) if gate else None
        if self.gate_proj is not None:
            nn.init.zeros_(self.gate_proj.weight)
            nn.init.zeros_(self.gate_proj.bias)

    def residual_outputs(self) -> list[nn.Parameter]:
        """The output projection writes into the residual stream (scaled by the gpt2 init)."""
        return [self.o_proj.weight]

    def fixed_init_parameters(self) -> list[nn.Parameter]:
        """The zero gate (identity at init) and the null key/value keep their own init."""
        gate = [self.gate_proj.weight, self.gate_proj.bias] if self.gate_proj is not None else []
        null = [self.null_k, self.null_v] if self.null_k is not None and self.null_v is not None else []
        return gate + null

    def _heads(self, x: Tensor, n: int) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, n, -1).transpose(1, 2)

    def project(self, x: Tensor, start: int) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """q_sem, q_geo (B, H, T, ·) and k_sem, k_geo, v (B, H_kv, T, ·), RoPE applied to the geo path."""
        q_sem, q_geo = self._heads(self.q_sem(x), self.n_heads), self._heads(self.q_geo(x), self.n_heads)
        if self.tie_qk:
            k_sem, k_geo = q_sem, q_geo
        else:
            k_sem = self._heads(self.k_sem(x), self.n_kv_heads)  # type: ignore[misc]
            k_geo = self._heads(self.k_geo(x), self.n_kv_heads)  # type: ignore[misc]
        v = self._heads(self.v_proj(x), self.n_kv_heads)
        if self.rope is not None:
            q_geo, k_geo = self.rope.pair(q_geo, k_geo, start)
        return q_sem, q_geo, k_sem, k_geo, v

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T, d_model) → (B, T, d_model); k_sem, k_geo and v go through ``ctx.cache``."""
        t = x.shape[1]
        start = ctx.start_pos if ctx is not None else 0
        q_sem, q_geo, k_sem, k_geo, v = self.project(x, start)
        if ctx is not None and ctx.cache is not None:
            attend = getattr(ctx.cache, "attend", None)  # ModelCache: q8/q4 decode through kernels.kv_decode
            if attend is not None:
                null = None if self.null_k is None or self.null_v is None else (
                    self.null_k[..., :self.sem_head], self.null_k[..., self.sem_head:], self.null_v)
                fused = attend(self, q_sem, {"k_sem": k_sem, "k_geo": k_geo, "v": v}, self.sem_head ** -0.5,
                               q_geo, self.geo_head ** -0.5, null)
                if fused is not None:
                    return self._output(x, fused)
            k_sem, k_geo, v = ctx.cache.update(self, {"k_sem": k_sem, "k_geo": k_geo, "v": v})
        dropout = self.dropout if self.training else 0.0
        if dropout == 0.0 and k_sem.shape[-2] == t and uses_triton("dba_attention", q_sem):
            out = dba_attention(q_sem, q_geo, k_sem, k_geo, v, self.sem_head ** -0.5, self.geo_head ** -0.5,
                                self.causal, self.null_k, self.null_v)
            return self._output(x, out)
        q = torch.cat([q_sem / math.sqrt(self.sem_head), q_geo / math.sqrt(self.geo_head)], dim=-1)
        k = torch.cat([k_sem, k_geo], dim=-1)
        if self.null_k is None:
            out = causal_sdpa(q, k, v, self.causal, dropout, scale=1.0)
        else:
            out = self._with_null(q, k, v, dropout)
        return self._output(x, out)

    def _output(self, x: Tensor, out: Tensor) -> Tensor:
        """The per-head gate (when present) and the output projection of attention's (B, H, T, d_v) result."""
        b, t, _ = x.shape
        if self.gate_proj is not None:
            out = out * (2 * torch.sigmoid(self.gate_proj(x))).transpose(1, 2).unsqueeze(-1)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))

    def _with_null(self, q: Tensor, k: Tensor, v: Tensor, dropout: float) -> Tensor:
        """Prepend the learned null key/value (visible to every query) and attend once.

        Prefill (causal, as many queries as keys) also prepends a zero query row: SDPA's
        square causal mask (``is_causal``, which its flash / memory-efficient kernels apply
        block-wise) then shows each query exactly the null key and its causal prefix, and
        the extra row's output is dropped — no (T, T+1) mask is built or read. Decode (one
        query) needs no mask; a chunk after cached history takes an explicit mask.
        """
        b, t_q, t_k = q.shape[0], q.shape[-2], k.shape[-2]
        assert self.null_k is not None and self.null_v is not None
        k = torch.cat([self.null_k.to(k.dtype).expand(b, -1, -1, -1), k], dim=-2)
        v = torch.cat([self.null_v.to(v.dtype).expand(b, -1, -1, -1), v], dim=-2)
        gqa = q.shape[1] != k.shape[1]
        sdpa = nn.functional.scaled_dot_product_attention
        if not self.causal or t_q == 1:
            return sdpa(q, k, v, dropout_p=dropout, scale=1.0, enable_gqa=gqa)
        if t_q == t_k:
            q = torch.cat([q.new_zeros(b, q.shape[1], 1, q.shape[-1]), q], dim=-2)
            return sdpa(q, k, v, is_causal=True, dropout_p=dropout, scale=1.0, enable_gqa=gqa)[..., 1:, :]
        mask = torch.ones(t_q, t_k + 1, dtype=torch.bool, device=q.device)
        mask[:, 1:] = torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).tril(diagonal=t_k - t_q)
        return sdpa(q, k, v, attn_mask=mask, dropout_p=dropout, scale=1.0, enable_gqa=gqa)
