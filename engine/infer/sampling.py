"""Next-token sampling: greedy, temperature, top-k and top-p (nucleus).

Given logits z (B, V):

* greedy (``temperature == 0``): argmax_v z_v;
* temperature τ: p = softmax(z / τ) — τ < 1 sharpens, τ > 1 flattens;
* top-k: keep the k largest logits, the rest get −∞ (Fan et al., 2018);
* top-p: keep the smallest set of tokens, by decreasing probability, whose total
  probability reaches p (Holtzman et al., 2020); the most likely token is always kept.

Filters apply in the order temperature → top-k → top-p, then one draw per row with a
seeded ``torch.Generator`` (same seed, same tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Sampling:
    """How the next token is chosen (module docstring); the default is greedy."""

    temperature: float = 0.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be ≥ 0 (0 = greedy), got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be ≥ 1, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.temperature == 0 and (self.top_k is not None or self.top_p is not None):
            raise ValueError("top_k/top_p need sampling: set a temperature > 0 (temperature 0 is greedy)")

    @property
    def greedy(self) -> bool:
        """True when the next token is the argmax."""
        return self.temperature == 0


def filter_logits(logits: Tensor, sampling: Sampling) -> Tensor:
    """Apply temperature, top-k and top-p to logits (B, V); removed entries become −∞."""
    z = logits.float() / sampling.temperature
    if sampling.top_k is not None and sampling.top_k < z.shape[-1]:
        kth = torch.topk(z, sampling.top_k, dim=-1).values[..., -1:]                 # (B, 1)
        z = z.masked_fill(z < kth, float("-inf"))
    if sampling.top_p is not None and sampling.top_p < 1.0:
        sorted_z, order = torch.sort(z, dim=-1, descending=True)                   # (B, V)
        probs = sorted_z.softmax(dim=-1)
        before = probs.cumsum(dim=-1) - probs                                      # mass of strictly better tokens
        drop_sorted = before >= sampling.top_p                                     # the first token is never dropped
        z = z.masked_fill(drop_sorted.scatter(-1, order, drop_sorted), float("-inf"))
    return z


def sample(logits: Tensor, sampling: Sampling, generator: torch.Generator | None = None) -> Tensor:
    """Logits (B, V) → next token ids (B, 1) int64."""
    if sampling.greedy:
        return logits.argmax(dim=-1, keepdim=True)
    probs = filter_logits(logits, sampling).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator)
