"""``AttentionLayer``: causal self-attention — standard (MHA), grouped-query (GQA).

Shapes: x (B, T, d_model) → q (B, H, T, hd), k/v (B, H_kv, T, hd) → out (B, T, d_model).
GQA shares each key/value head across n_heads / n_kv_heads query heads (Ainslie et al.,
2023). The decoupled (DBA) mode lives in ``attention_decoupled.py``. PyTorch's
``scaled_dot_product_attention`` is the fast path on every device.

Generation (a cache in the context, no gradients recorded, not compiling) projects q, k
and v with ONE matrix multiply over the three weights stacked (``KeptStack``: built once,
kept until a parameter changes), so a batch-1 decode step launches one projection kernel
instead of three; q, k and v are views of its output, and q and k are rotated by one RoPE
call. Under ``torch.compile`` (the CUDA trainer) the three weights are stacked inside the
traced graph, as nanoGPT's ``c_attn`` is one Linear: Inductor fuses the concatenation into
the bf16 cast autocast makes anyway, and each micro-batch launches one projection product
forward and two backward instead of three and six (fewer host launches, which bound a
DDP step on a slow host: docs/measurements.md, issue 21). Every other forward (eager
training, evaluation without a cache, where a sharded optimiser may update parameters
without moving their version) keeps the three Linears' products. The state dict is the
three Linears either way.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.rope import Rope
from caramba.engine.model.layers.rope_tables import RopeTables
from caramba.engine.model.layers.stacked import KeptStack
from caramba.kernels.rope import rope_one


def causal_sdpa(q: Tensor, k: Tensor, v: Tensor, causal: bool, dropout: float = 0.0, scale: float | None = None) -> Tensor:
    """SDPA with a causal mask aligned to the *end* of the keys (decode with a cache)."""
    t_q, t_k = q.shape[-2], k.shape[-2]
    gqa = q.shape[1] != k.shape[1]
    if not causal or t_q == 1:
        return nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=dropout, scale=scale, enable_gqa=gqa)
    if t_q == t_k:
        return nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout, scale=scale, enable_gqa=gqa)
    mask = torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).tril(diagonal=t_k - t_q)
    return nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, scale=scale, enable_gqa=gqa)


class AttentionLayer(nn.Module):
    """Multi-head / grouped-query causal self-attention with RoPE."""

    registry_name = "AttentionLayer"

    def __init__(
        self, d_model: int, n_heads: int, n_kv_heads: int | None = None, mode: str = "standard", rope: bool = True,
        rope_base: float = 10000.0, rope_scaling: dict[str, Any] | None = None, causal: bool = True, bias: bool = False,
        dropout: float = 0.0, **_dba_only: Any,
    ) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads or n_heads
        self.head_dim = d_model // n_heads
        self.causal, self.dropout = causal, dropout
        self.q_proj = nn.Linear(d_model, n_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(d_model, self.n_kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(d_model, self.n_kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(n_heads * self.head_dim, d_model, bias=bias)
        self.rope = Rope(self.head_dim, rope_base, rope_scaling) if rope else None
        self._qkv_stack: KeptStack[tuple[Tensor, Tensor | None]] = KeptStack()

    def residual_outputs(self) -> list[nn.Parameter]:
        """The output projection writes into the residual stream (scaled by the gpt2 init)."""
        return [self.o_proj.weight]

    def _heads(self, x: Tensor, n: int) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, n, -1).transpose(1, 2)

    def _qkv(self, x: Tensor, start: int | Tensor, shared: RopeTables | None,
             cached: bool) -> tuple[Tensor, Tensor, Tensor]:
        """q (B, H, T, hd), k and v (B, H_kv, T, hd), RoPE applied (``shared``: the pass's table memo).

        Generation (``cached``, no gradients, not compiling): one product over the stacked
        weights (module docstring); q and k, adjacent in its output, are rotated by one RoPE
        call (in place on the Triton path). Otherwise, or when a projection is not a plain
        ``nn.Linear`` (a LoRA wrapper keeps its own forward): the three Linears, q and k
        rotated as a pair.
        """
        linears = (self.q_proj, self.k_proj, self.v_proj)
        plain = all(type(m) is nn.Linear for m in linears)
        if not cached or torch.is_grad_enabled() or not plain or torch.compiler.is_compiling():
            if plain and torch.compiler.is_compiling():  # traced: the stack is part of the graph (and its backward)
                q, k, v = nn.functional.linear(x, *self._stacked(linears)).split([m.out_features for m in linears], -1)
            else:
                q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
            q, k, v = self._heads(q, self.n_heads), self._heads(k, self.n_kv_heads), self._heads(v, self.n_kv_heads)
            if self.rope is not None:
                q, k = self.rope.pair(q, k, start, shared)
            return q, k, v
        params = [p for m in linears for p in m.parameters()]
        y = nn.functional.linear(x, *self._qkv_stack.get(params, lambda: self._stacked(linears)))
        n, kv = self.n_heads, self.n_kv_heads
        qk, v = self._heads(y[..., :(n + kv) * self.head_dim], n + kv), self._heads(y[..., (n + kv) * self.head_dim:], kv)
        if self.rope is not None:
            qk = rope_one(qk, *self.rope.angles(start, qk.shape[-2], qk.device, shared))
        q, k = qk.split([n, kv], 1)
        return q, k, v

    @staticmethod
    def _stacked(linears: tuple[nn.Linear, ...]) -> tuple[Tensor, Tensor | None]:
        """The rows of q, k, v stacked: weight (Hq·hd + 2·H_kv·hd, d_model) and bias (or None)."""
        weight = torch.cat([m.weight for m in linears])
        biased = any(m.bias is not None for m in linears)
        bias = torch.cat([m.bias if m.bias is not None else m.weight.new_zeros(m.out_features) for m in linears]) \
            if biased else None
        return weight, bias

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T, d_model) → (B, T, d_model); keys/values go through ``ctx.cache`` when decoding."""
        start = ctx.start_pos if ctx is not None else 0
        cached = ctx is not None and ctx.cache is not None
        q, k, v = self._qkv(x, start, ctx.rope_tables if ctx is not None else None, cached)
        fused = None
        if cached:
            assert ctx is not None
            attend = getattr(ctx.cache, "attend", None)  # ModelCache: q8/q4 decode through kernels.kv_decode
            fused = attend(self, q, {"k": k, "v": v}, self.head_dim ** -0.5) if attend is not None else None
            if fused is None:
                k, v = ctx.cache.update(self, {"k": k, "v": v})
        out = fused if fused is not None else causal_sdpa(q, k, v, self.causal, self.dropout if self.training else 0.0)
        out = self.o_proj(out.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1))
        return out


def attention_layer(mode: str = "standard", **kwargs: Any) -> nn.Module:
    """The registered builder of ``AttentionLayer``: picks the implementation by ``mode``."""
    if mode == "decoupled":
        from caramba.engine.model.layers.attention_decoupled import DecoupledAttention

        return DecoupledAttention(**kwargs)
    return AttentionLayer(mode=mode, **kwargs)
