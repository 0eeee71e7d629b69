"""Autoregressive generation: a prefill, then one decode step per new token.

With a cache, the prefill runs the prompt (B, T) once and stores every attention layer's
keys/values; each decode step then feeds only the last token (B, 1) at RoPE position
``cache.length`` and attends over the cached history — O(T) work per token instead of
the O(T²) of recomputing the prefix. Without a cache (``policy=None``) every step runs
the whole sequence again: the reference the cache must reproduce, and the baseline the
latency benchmark reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from caramba.engine.infer.cache import CachePolicy, ModelCache
from caramba.engine.infer.sampling import Sampling, sample
from caramba.engine.model.context import ForwardContext


@dataclass
class Decoder:
    """Stepwise decoding state of one model and one batch of sequences.

    ``prefill(ids)`` returns the logits of the last prompt position (B, V); ``step(token)``
    appends one token (B, 1) and returns the logits after it (B, V).
    """

    model: nn.Module
    cache: ModelCache | None
    ids: Tensor | None = None

    @torch.no_grad()
    def prefill(self, ids: Tensor) -> Tensor:
        """Run the prompt (B, T); logits of its last position (B, V)."""
        self.ids = ids
        if self.cache is None:
            return self.model(ids, ForwardContext())[:, -1]
        if self.cache.length:
            raise RuntimeError("prefill on a non-empty cache; create a new Decoder for a new prompt")
        return self.model(ids, ForwardContext(start_pos=0, cache=self.cache))[:, -1]

    @torch.no_grad()
    def step(self, token: Tensor) -> Tensor:
        """Append ``token`` (B, 1); logits of the new last position (B, V)."""
        if self.ids is None:
            raise RuntimeError("call prefill(prompt) before step(token)")
        self.ids = torch.cat([self.ids, token], dim=1)
        if self.cache is None:
            return self.model(self.ids, ForwardContext())[:, -1]
        return self.model(token, ForwardContext(start_pos=self.cache.length, cache=self.cache))[:, -1]


def decoder(model: nn.Module, policy: CachePolicy | None, capacity: int | None = None) -> Decoder:
    """A :class:`Decoder` with a fresh cache of ``policy`` (None: recompute, no cache)."""
    return Decoder(model, None if policy is None else ModelCache(policy, capacity))


@torch.no_grad()
def generate(model: nn.Module, prompt: Tensor, max_new_tokens: int, sampling: Sampling = Sampling(),
             policy: CachePolicy | None = CachePolicy(), seed: int = 0, eos: int | None = None) -> Tensor:
    """Continue ``prompt`` (B, T) by up to ``max_new_tokens``; returns (B, T + n) token ids.

    Generation stops early once every row has produced ``eos`` (when given).
    """
    if prompt.ndim != 2 or prompt.shape[1] == 0:
        raise ValueError(f"prompt must be (batch, length ≥ 1) token ids, got shape {tuple(prompt.shape)}")
    generator = torch.Generator(device=prompt.device).manual_seed(seed)
    state = decoder(model, policy, prompt.shape[1] + max_new_tokens)
    logits = state.prefill(prompt)
    out = [prompt]
    done = torch.zeros(prompt.shape[0], dtype=torch.bool, device=prompt.device)
    for i in range(max_new_tokens):
        token = sample(logits, sampling, generator)                                   # (B, 1)
        out.append(token)
        if eos is not None:
            done |= token[:, 0] == eos
            if bool(done.all()):
                break
        if i + 1 < max_new_tokens:
            logits = state.step(token)
    return torch.cat(out, dim=1)
