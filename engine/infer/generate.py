"""Autoregressive generation: a prefill, then one decode step per new token.

With a cache, the prefill runs the prompt (B, T) once and stores every attention layer's
keys/values; each decode step then feeds only the last token (B, 1) at RoPE position
``cache.length`` and attends over the cached history — O(T) work per token instead of
the O(T²) of recomputing the prefix. Without a cache (``policy=None``) every step runs
the whole sequence again: the reference the cache must reproduce, and the baseline the
latency benchmark reports.

``decoder`` picks the decode path once per model/policy/device (``engine/infer/static/plan.py``,
logged): when the capacity is known, a static cache whose decode step is captured in a CUDA
graph on CUDA (run eagerly on the CPU); otherwise the growing ``ModelCache``.
``generation`` returns the ids with their :class:`Throughput` (tokens/s and the fraction
of the bandwidth bound); ``generate`` the ids alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from caramba.engine.infer.cache import CachePolicy, ModelCache
from caramba.engine.infer.sampling import Sampling, sample
from caramba.engine.infer.static import StaticDecoder, announce, decode_path
from caramba.engine.infer.throughput import Throughput, throughput
from caramba.engine.model.context import ForwardContext


@dataclass
class Decoder:
    """Stepwise decoding state of one model and one batch of sequences (growing cache or none).

    ``prefill(ids)`` returns the logits of the last prompt position (B, V); ``step(token)``
    appends one token (B, 1) and returns the logits after it (B, V).
    """

    model: nn.Module
    cache: ModelCache | None
    ids: Tensor | None = None
    path: str = "growing cache, eager steps"

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


def _device(model: nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def decoder(model: nn.Module, policy: CachePolicy | None, capacity: int | None = None,
            static: bool = True, capture: bool = True) -> Decoder | StaticDecoder:
    """A decoder with a fresh cache of ``policy`` (None: recompute, no cache) for ``capacity`` tokens.

    With a capacity and ``static``, the path ``decode_path`` chooses (a static cache, steps
    captured on CUDA unless ``capture`` is False); otherwise the growing cache.
    """
    device = _device(model)
    path = decode_path(model, policy, device, capture) if static and capacity is not None else None
    if path is not None:
        announce(path, policy, device)
    if path is not None and path.static:
        assert policy is not None
        return StaticDecoder(model, policy, capacity, path)  # type: ignore[arg-type]
    reason = path.describe() if path is not None else "growing cache, eager steps"
    return Decoder(model, None if policy is None else ModelCache(policy, capacity), path=reason)


@dataclass
class Generation:
    """Generated ids (B, T + n) and how fast they came."""

    ids: Tensor
    throughput: Throughput


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def generation(model: nn.Module, prompt: Tensor, max_new_tokens: int, sampling: Sampling = Sampling(),
               policy: CachePolicy | None = CachePolicy(), seed: int = 0, eos: int | None = None,
               static: bool = True, capture: bool = True) -> Generation:
    """Continue ``prompt`` (B, T) by up to ``max_new_tokens``; ids and throughput.

    Generation stops early once every row has produced ``eos`` (when given).
    """
    if prompt.ndim != 2 or prompt.shape[1] == 0:
        raise ValueError(f"prompt must be (batch, length ≥ 1) token ids, got shape {tuple(prompt.shape)}")
    device = prompt.device
    generator = torch.Generator(device=device).manual_seed(seed)
    _sync(device)
    t0 = time.perf_counter()
    state = decoder(model, policy, prompt.shape[1] + max_new_tokens, static, capture)
    logits = state.prefill(prompt)
    cache_start = state.cache.nbytes() if state.cache is not None else 0
    _sync(device)
    t1 = time.perf_counter()
    out = [prompt]
    done = torch.zeros(prompt.shape[0], dtype=torch.bool, device=device)
    steps = 0
    for i in range(max_new_tokens):
        token = sample(logits, sampling, generator)                                   # (B, 1)
        out.append(token)
        if eos is not None:
            done |= token[:, 0] == eos
            if bool(done.all()):
                break
        if i + 1 < max_new_tokens:
            logits = state.step(token)
            steps += 1
    _sync(device)
    t2 = time.perf_counter()
    cache_end = state.cache.nbytes() if state.cache is not None else 0
    path = state.path if isinstance(state.path, str) else state.path.describe()
    # step i reads the history after its own token is written, L0 + i tokens: the mean is L0 + (steps + 1) / 2
    read = (cache_start + cache_end) / 2 + ((cache_end - cache_start) / (2 * steps) if steps else 0)
    stats = throughput(path, prompt.shape[0], steps, t1 - t0, t2 - t1, model, read, device)
    return Generation(torch.cat(out, dim=1), stats)


def generate(model: nn.Module, prompt: Tensor, max_new_tokens: int, sampling: Sampling = Sampling(),
             policy: CachePolicy | None = CachePolicy(), seed: int = 0, eos: int | None = None,
             static: bool = True, capture: bool = True) -> Tensor:
    """Continue ``prompt`` (B, T) by up to ``max_new_tokens``; returns (B, T + n) token ids (``generation``)."""
    return generation(model, prompt, max_new_tokens, sampling, policy, seed, eos, static, capture).ids
