"""``MoELayer``: a top-k routed mixture of experts (Shazeer et al., 2017; Fedus et al.,
2021, "Switch Transformers").

For tokens x (S = B·T of them, d_model each):

    p = softmax(x W_r)                    router probabilities (S, E)
    (w, e) = top_k(p)                      chosen experts, weights renormalised to sum 1
    y = Σ_j w_j · expert_{e_j}(x)

Capacity: with ``capacity_factor`` c, expert e accepts at most C = ⌈c·S·k/E⌉
assignments, taken in token order (token-major, then slot); the rest are dropped (they
contribute 0, the residual carries the token) and counted in
``ctx.stats["moe_dropped_tokens"]``. Load balance (Switch): aux = E · Σ_e f_e · P_e with
f_e the fraction of assignments sent to e and P_e the mean router probability of e; it
is appended to ``ctx.aux_losses`` (the objective adds it with ``aux_weight``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.glu import SwiGLULayer
from caramba.engine.model.layers.mlp import MLPLayer


class MoELayer(nn.Module):
    """Top-k routed experts with capacity, dropped-token count and balance loss."""

    def __init__(self, d_model: int, d_ff: int, n_experts: int, top_k: int = 2, capacity_factor: float | None = None,
                 expert: str = "swiglu", normalize_top_k: bool = True) -> None:
        super().__init__()
        self.n_experts, self.top_k, self.capacity_factor, self.normalize = n_experts, top_k, capacity_factor, normalize_top_k
        self.router = nn.Linear(d_model, n_experts, bias=False)
        make = {"swiglu": lambda: SwiGLULayer(d_model, d_ff), "mlp": lambda: MLPLayer(d_model, d_ff)}[expert]
        self.experts = nn.ModuleList(make() for _ in range(n_experts))

    def residual_outputs(self) -> list[nn.Parameter]:
        """Every expert's down projection (each writes into the residual stream)."""
        return [p for expert in self.experts for p in expert.residual_outputs()]  # type: ignore[operator]

    def route(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """probs (S, E), weights (S, k), experts (S, k) and keep (S, k) for flat tokens x (S, d)."""
        logits = self.router(x)
        probs = torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)  # ≥ fp32 routing
        weights, experts = probs.topk(self.top_k, dim=-1)
        if self.normalize:
            weights = weights / weights.sum(-1, keepdim=True)
        keep = torch.ones_like(experts, dtype=torch.bool)
        if self.capacity_factor is not None:
            capacity = math.ceil(self.capacity_factor * x.shape[0] * self.top_k / self.n_experts)
            onehot = nn.functional.one_hot(experts.reshape(-1), self.n_experts)  # (S·k, E), token-major
            position = (onehot.cumsum(0) - 1).gather(1, experts.reshape(-1, 1)).view_as(experts)
            keep = position < capacity
        return probs, weights.to(x.dtype), experts, keep

    def balance_loss(self, probs: Tensor, experts: Tensor) -> Tensor:
        """E · Σ_e f_e · P_e (1 when routing is uniform)."""
        counts = nn.functional.one_hot(experts.reshape(-1), self.n_experts).to(probs.dtype).mean(0)  # f_e
        return self.n_experts * (counts * probs.mean(0)).sum()

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…, d_model) → (…, d_model)."""
        flat = x.reshape(-1, x.shape[-1])
        if flat.device.type == "meta":
            return self._meta_forward(flat, ctx).view_as(x)
        probs, weights, experts, keep = self.route(flat)
        weights = weights * keep
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            token, slot = torch.nonzero((experts == e) & keep, as_tuple=True)
            if token.numel():
                out.index_add_(0, token, expert(flat[token]) * weights[token, slot, None])
        if ctx is not None:
            ctx.aux_losses.append(self.balance_loss(probs, experts))
            ctx.stats["moe_dropped_tokens"] = ctx.stats.get("moe_dropped_tokens", 0.0) + float((~keep).sum())
        return out.view_as(x)

    def _meta_forward(self, flat: Tensor, ctx: ForwardContext | None) -> Tensor:
        """Shape-only pass for the dry run (meta tensors have no values to route by): each
        expert processes a balanced share ⌈S·k/E⌉ of the tokens, so FLOPs and activations
        match a perfectly balanced routing."""
        share = math.ceil(flat.shape[0] * self.top_k / self.n_experts)
        probs = torch.softmax(self.router(flat), dim=-1)
        out = probs.sum(-1, keepdim=True) * 0 + torch.zeros_like(flat)
        for expert in self.experts:
            out = out + expert(flat[:share]).sum(0)
        if ctx is not None:
            ctx.aux_losses.append(probs.mean() * self.n_experts)
        return out
