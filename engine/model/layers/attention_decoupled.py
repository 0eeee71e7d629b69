"""``AttentionLayer`` mode ``decoupled``: DBA, Decoupled Bottleneck Attention.

The query/key space is split in two paths that are scored separately and summed:

* a **semantic** path (``sem_dim`` features over all heads, no RoPE): *what* a token is;
* a **geometric** path (``geo_dim`` features, RoPE): *where* it is;

with one value path (``v_dim`` features, default ``d_model``):

    score(i, j) = q_sem,i·k_sem,j / √d_sem_head + q_geo,i·k_geo,j / √d_geo_head

computed as ONE attention call: each query is the concatenation [q_sem, q_geo] and each
key [k_sem, k_geo], so one dot product is exactly the sum above. The layer never builds
that concatenation by copying: ONE matrix multiply (``_joint``: the projections' weights
stacked per head, the gate's too) writes every head's [sem | geo] query and key side by
side, RoPE rotates the geometric slices of that output in place, and q, k, v are views of
it. The two scales become one: the semantic query rows are multiplied by
√(d_geo_head/d_sem_head) in the stacked weight and SDPA runs with scale 1/√d_geo_head.
Without a cache the null key/value (below) rides in the same product: x gets one zero row
in front and that output row of k and v is overwritten with the null key and value.
Because sem_dim + geo_dim can be much smaller than 2·d_model, the KV cache (k_sem, k_geo,
v, kept separately) holds (sem_dim + geo_dim + v_dim)·n_kv_heads/n_heads values per token
instead of 2·d_model.

Options: ``n_kv_heads`` shares all three paths GQA-style; ``tie_qk`` uses the query
projection of each path for its keys too; ``null_attn`` adds a learned key/value (one per
key/value head, no RoPE) that every query can attend to (an attention sink); ``gate``
multiplies each head's output by 2·σ(W_g x), with W_g = 0 at init (identity at init).

Kernel path: prefill and training without attention dropout (queries as long as keys) run
``kernels.dba_attention`` when the dispatch chooses it — the two score terms summed inside one
flash-style Triton kernel, GQA and the null key included, no concatenated q/k written. Decode
steps over a q8/q4 cache run ``kernels.kv_decode`` through ``ModelCache.attend`` (both score
terms and the null key in one pass over the codes); other decode steps, chunks after cached
history and dropout take the SDPA path below (the dispatch holds the Triton kernel back: it
measured slower than this path, which is itself within the issue's 1.3× of a standard
attention of the same heads and q/k width; ``kernels/registry.py`` carries the numbers).

Shapes: x (B, T, d_model) → q (B, H, T, ds+dg), k (B, H_kv, T, ds+dg), v (B, H_kv, T, dv)
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
from caramba.engine.model.layers.rope_tables import RopeTables
from caramba.kernels.dba_attention import dba_attention
from caramba.kernels.dispatch import uses_triton
from caramba.kernels.rope import rope_one


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
        self._stacked: tuple[tuple[tuple[int, int], ...], tuple[Tensor, Tensor | None]] | None = None  # _joint
        self.scale = self.geo_head ** -0.5                           # SDPA's one scale (module docstring)
        self.ratio = math.sqrt(self.geo_head / self.sem_head)        # folded into the semantic query rows
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

    def _joint(self) -> tuple[Tensor, Tensor | None]:
        """Every projection of x stacked into one weight (and bias): rows [q][k][v][gate].

        q and k rows go head by head, [sem_h | geo_h], so the product's q (k) part viewed as
        (H, d_sem_head + d_geo_head) is the concatenated query (key) with no copy; the semantic
        query rows carry √(d_geo_head/d_sem_head) (module docstring). A tied k (``tie_qk``)
        is the query projection again, unscaled. The parameters and their state-dict names
        stay the separate Linears: the stack is rebuilt (a copy of the small weights, which
        autograd splits back) while gradients are recorded or inside torch.compile, and kept
        otherwise (inference: prefill and every decode step reuse it) until a parameter's
        storage or version changes; a CUDA-graph capture uses a kept stack but never keeps the
        one it records (its memory is written only when the graph replays).
        """
        modules = [m for m in (self.q_sem, self.q_geo, self.k_sem, self.k_geo, self.v_proj, self.gate_proj)
                   if m is not None]
        if torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self._stack()
        key = tuple((p.data_ptr(), p._version) for m in modules for p in m.parameters())
        if self._stacked is not None and self._stacked[0] == key:
            return self._stacked[1]
        stack = self._stack()
        if not (stack[0].is_cuda and torch.cuda.is_current_stream_capturing()):  # a capture only records kernels
            self._stacked = (key, stack)
        return stack

    def _stack(self) -> tuple[Tensor, Tensor | None]:
        """The stacked weight and bias of ``_joint``, built from the parameters."""
        ks, kg = (self.q_sem, self.q_geo) if self.tie_qk else (self.k_sem, self.k_geo)
        pairs = [(self.q_sem, self.q_geo, self.n_heads, self.ratio), (ks, kg, self.n_kv_heads, 1.0)]
        plain = [self.v_proj] + ([self.gate_proj] if self.gate_proj is not None else [])

        def stacked(part: str) -> Tensor:
            def of(module: nn.Module, scale: float = 1.0) -> Tensor:
                value = getattr(module, part)
                value = value if value is not None else module.weight.new_zeros(module.out_features)
                return value * scale if scale != 1.0 else value
            rows = [torch.cat([of(sem, scale).unflatten(0, (n, -1)), of(geo).unflatten(0, (n, -1))], 1).flatten(0, 1)
                    for sem, geo, n, scale in pairs]
            return torch.cat(rows + [of(m) for m in plain])

        biased = any(m.bias is not None for sem, geo, _, _ in pairs for m in (sem, geo)) or any(
            m.bias is not None for m in plain)
        return stacked("weight"), (stacked("bias") if biased else None)

    def _qkv(self, x: Tensor, start: int | Tensor, null_row: bool = False,
             shared: RopeTables | None = None,
             ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """q (B, H, T, ds+dg) with the semantic part scaled, k (B, H_kv, T, ds+dg), v (B, H_kv, T, dv) and
        the gate's logits (B, T, H) or None: views of one product, RoPE applied in place to the geo slices.

        ``null_row``: x gets a zero row in front, and that row of k and v holds the null key and
        value, so q, k, v have T+1 rows (row 0 of q is a throw-away query) and attention needs no
        concatenation; the gate keeps the T real rows. ``shared``: the pass's RoPE table memo (``Rope.angles``).
        """
        n, kv, ds, dq = self.n_heads, self.n_kv_heads, self.sem_head, self.sem_head + self.geo_head
        if null_row:  # one concatenation of contiguous rows (a pad would fill the whole output, then copy x)
            x = torch.cat([x.new_zeros(x.shape[0], 1, x.shape[2]), x], dim=1)
        y = nn.functional.linear(x, *self._joint())
        if null_row:
            assert self.null_k is not None and self.null_v is not None
            y[:, 0, n * dq:(n + kv) * dq + kv * self.v_head] = torch.cat([self.null_k.flatten(), self.null_v.flatten()])
        if self.rope is not None:  # in place, q's and k's geo slices in one call, before the split below
            rows = y[:, 1:] if null_row else y  # the null key takes no rotation
            geo = rows[..., :(n + kv) * dq].unflatten(-1, (n + kv, dq))[..., ds:].transpose(1, 2)  # (B, H+H_kv, T, dg)
            rotated = rope_one(geo, *self.rope.angles(start, geo.shape[-2], geo.device, shared))
            if rotated is not geo:  # PyTorch's rope path returns a new tensor; the Triton path rotated in place
                geo.copy_(rotated)  # (slices of y: split()'s views may not be written in place)
        gates = n if self.gate_proj is not None else 0
        q, k, v, gate = y.split([n * dq, kv * dq, kv * self.v_head, gates], -1)  # backward: one concatenation
        heads = [part.unflatten(-1, (count, -1)).transpose(1, 2) for part, count in ((q, n), (k, kv), (v, kv))]
        return heads[0], heads[1], heads[2], ((gate[:, 1:] if null_row else gate) if gates else None)

    def project(self, x: Tensor, start: int) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """q_sem, q_geo (B, H, T, ·) and k_sem, k_geo, v (B, H_kv, T, ·), RoPE applied to the geo path (unscaled)."""
        q, k, v, _ = self._qkv(x, start)
        ds = self.sem_head
        return q[..., :ds] / self.ratio, q[..., ds:], k[..., :ds], k[..., ds:], v

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T, d_model) → (B, T, d_model); k_sem, k_geo and v go through ``ctx.cache``.

        Paths: with a cache, k/v go through it (q8/q4 decode steps through ``attend``); the
        Triton kernel when the dispatch chooses it and the keys are this call's; otherwise SDPA,
        where an uncached null key rides in the projection's extra row (``_qkv``'s ``null_row``).
        """
        t, ds = x.shape[1], self.sem_head
        dropout = self.dropout if self.training else 0.0
        cached = ctx is not None and ctx.cache is not None
        kernel = dropout == 0.0 and uses_triton("dba_attention", x)
        null_row = self.null_k is not None and not cached and not kernel
        q, k, v, gate = self._qkv(x, ctx.start_pos if ctx is not None else 0, null_row,
                                  ctx.rope_tables if ctx is not None else None)
        if ctx is not None and ctx.cache is not None:
            parts = {"k_sem": k[..., :ds], "k_geo": k[..., ds:], "v": v}
            attend = getattr(ctx.cache, "attend", None)  # ModelCache: q8/q4 decode through kernels.kv_decode
            if attend is not None:
                null = None if self.null_k is None or self.null_v is None else (
                    self.null_k[..., :ds], self.null_k[..., ds:], self.null_v)
                fused = attend(self, q[..., :ds], parts, self.scale, q[..., ds:], self.scale, null)
                if fused is not None:
                    return self._output(x, fused, gate)
            k_sem, k_geo, v = ctx.cache.update(self, parts)
            k = torch.cat([k_sem, k_geo], dim=-1)
        gqa = q.shape[1] != k.shape[1]
        if null_row and self.causal:  # query i sees the null key (row 0) and keys ≤ i; row 0's output is dropped
            out = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout,
                                                             scale=self.scale, enable_gqa=gqa)[..., 1:, :]
        elif null_row:
            out = nn.functional.scaled_dot_product_attention(q[..., 1:, :], k, v, dropout_p=dropout, scale=self.scale,
                                                             enable_gqa=gqa)
        elif kernel and k.shape[-2] == t:
            out = dba_attention(q[..., :ds], q[..., ds:], k[..., :ds], k[..., ds:], v, self.scale, self.scale,
                                self.causal, self.null_k, self.null_v)
        elif self.null_k is None:
            out = causal_sdpa(q, k, v, self.causal, dropout, scale=self.scale)
        else:
            out = self._with_null(q, k, v, dropout)
        return self._output(x, out, gate)

    def _output(self, x: Tensor, out: Tensor, gate: Tensor | None) -> Tensor:
        """The per-head gate 2·σ(logits) (when present) and the output projection of attention's (B, H, T, d_v) result.

        Worked on (B, T, H, d_v): SDPA's fused kernels write that layout for the layer's
        queries, so the gate's product comes out contiguous and the reshape is free.
        """
        b, t, _ = x.shape
        out = out.transpose(1, 2)
        if gate is not None:
            out = out * (2 * torch.sigmoid(gate)).unsqueeze(-1)
        return self.o_proj(out.reshape(b, t, -1))

    def _with_null(self, q: Tensor, k: Tensor, v: Tensor, dropout: float) -> Tensor:
        """Attention after a cache: prepend the learned null key/value (visible to every query), attend once.

        (Without a cache the null key rides in the projection instead: ``_qkv``'s ``null_row``.)
        A prefill into an empty cache (causal, as many queries as keys) also prepends a zero query row: SDPA's
        square causal mask (``is_causal``, which its flash / cuDNN kernels apply block-wise)
        then shows each query exactly the null key and its causal prefix, and the extra
        row's output is dropped — no (T, T+1) mask is built or read. The prepended tensors
        are built in (B, T+1, H, D) storage, the layout the fused kernels read and write.
        Decode (one query) needs no mask; a chunk after cached history takes an explicit mask.
        """
        assert self.null_k is not None and self.null_v is not None
        b, t_q, t_k = q.shape[0], q.shape[-2], k.shape[-2]

        def prepend(first: Tensor, rest: Tensor) -> Tensor:  # (B, n, 1, D) + (B, n, T, D) → (B, n, T+1, D)
            return torch.cat([first.transpose(1, 2), rest.transpose(1, 2)], dim=1).transpose(1, 2)

        k = prepend(self.null_k.to(k.dtype).expand(b, -1, -1, -1), k)
        v = prepend(self.null_v.to(v.dtype).expand(b, -1, -1, -1), v)
        gqa = q.shape[1] != k.shape[1]
        sdpa = nn.functional.scaled_dot_product_attention
        if not self.causal or t_q == 1:
            return sdpa(q, k, v, dropout_p=dropout, scale=self.scale, enable_gqa=gqa)
        if t_q == t_k:
            q = prepend(q.new_zeros(b, q.shape[1], 1, q.shape[-1]), q)
            return sdpa(q, k, v, is_causal=True, dropout_p=dropout, scale=self.scale, enable_gqa=gqa)[..., 1:, :]
        mask = torch.ones(t_q, t_k + 1, dtype=torch.bool, device=q.device)
        mask[:, 1:] = torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).tril(diagonal=t_k - t_q)
        return sdpa(q, k, v, attn_mask=mask, dropout_p=dropout, scale=self.scale, enable_gqa=gqa)
