"""Budget planning: for a memory budget, the longest context each cache kind allows.

The cache layout (which tensors each attention layer caches, with how many heads and
what width) is *probed*: one token goes through the model with a recording cache, so
any attention variant (MHA, GQA, DBA's k_sem/k_geo/v) is covered without knowing its
config. For a tensor with H heads of width D, batch B and T cached tokens, the bytes are

    dense:      B·H·T·D·s          (s = 4, 2, 2 for fp32, fp16, bf16)
    q8 / q4:    B·H·(T−R)·(D·c + 2·D/b) + B·H·min(T, R)·D·s_compute

with c = 1 (q8) or 1/2 (q4), block size b, residual window R kept in the compute dtype.
This equals ``ModelCache.nbytes()`` for the same policy (tested); the longest context is
the largest T whose total fits the budget (bytes are monotone in T: a binary search).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from caramba.engine.infer.cache.policy import DENSE_DTYPES, KINDS, CachePolicy
from caramba.engine.model.context import ForwardContext


@dataclass(frozen=True)
class CachedTensor:
    """One cached tensor of one layer: its name, key/value heads and head width."""

    name: str
    heads: int
    width: int


class _Recorder:
    """A cache that records what each layer would store and returns it unchanged."""

    def __init__(self) -> None:
        self.layout: list[CachedTensor] = []

    def update(self, layer: nn.Module, tensors: dict[str, Tensor]) -> tuple[Tensor, ...]:
        self.layout += [CachedTensor(name, t.shape[1], t.shape[-1]) for name, t in tensors.items()]
        return tuple(tensors.values())


@torch.no_grad()
def probe_layout(model: nn.Module, device: torch.device | str = "cpu") -> list[CachedTensor]:
    """Every tensor the model caches per token, found by running one token."""
    recorder = _Recorder()
    model(torch.zeros(1, 1, dtype=torch.long, device=device), ForwardContext(cache=recorder))
    if not recorder.layout:
        raise ValueError("the model caches nothing (no attention layer called ctx.cache.update)")
    return recorder.layout


def cache_bytes(layout: list[CachedTensor], tokens: int, policy: CachePolicy, batch: int = 1,
                compute_bytes: int = 4) -> int:
    """Bytes of a cache holding ``tokens`` tokens under ``policy`` (module docstring)."""
    total = 0
    for t in layout:
        kind = policy.kind_for(t.name)
        if kind in DENSE_DTYPES:
            per_token = t.width * torch.tensor([], dtype=DENSE_DTYPES[kind]).element_size()
            total += batch * t.heads * tokens * per_token
            continue
        window = min(tokens, policy.residual_window)
        codes = t.width if kind == "q8" else t.width // 2
        quantised = codes + 2 * (t.width // policy.block_size)
        total += batch * t.heads * ((tokens - window) * quantised + window * t.width * compute_bytes)
    return total


def longest_context(layout: list[CachedTensor], budget_bytes: int, policy: CachePolicy, batch: int = 1,
                    compute_bytes: int = 4, limit: int = 1 << 30) -> int:
    """The largest T with ``cache_bytes(T) ≤ budget_bytes`` (0 if not even one token fits)."""
    low, high = 0, limit
    while low < high:
        mid = (low + high + 1) // 2
        if cache_bytes(layout, mid, policy, batch, compute_bytes) <= budget_bytes:
            low = mid
        else:
            high = mid - 1
    return low


def plan_budget(model: nn.Module, budget_bytes: int, kinds: tuple[str, ...] = KINDS, batch: int = 1,
                block_size: int = 32, residual_window: int = 0, include_weights: bool = False,
                device: torch.device | str = "cpu") -> dict[str, int]:
    """Longest context per cache kind for a memory budget.

    With ``include_weights`` the model's parameter bytes are taken from the budget first
    (a budget for the whole inference footprint, activations excluded).
    """
    layout = probe_layout(model, device)
    compute = next(model.parameters()).element_size()
    if include_weights:
        budget_bytes -= sum(p.numel() * p.element_size() for p in model.parameters())
        if budget_bytes <= 0:
            raise ValueError("the weights alone exceed the budget; raise the budget or use a smaller model")
    return {kind: longest_context(layout, budget_bytes, CachePolicy(kind, block_size, residual_window), batch, compute)
            for kind in kinds}
