"""Latency: prefill, time to first token, per-token decode and throughput over a size grid.

For every prompt length P × generation length G × batch size B, one *run* is: build a
fresh cache (capacity P + G), prefill a random prompt (B, P), take the argmax token,
then G − 1 decode steps. With ``use_cache: false`` each step recomputes the whole
prefix (the O(T²) baseline). Wall-clock times (``perf_counter`` after a device
synchronise) give per run:

    prefill_ms           the prompt's forward pass (cache allocation included)
    ttft_ms              prefill + choosing the first token
    decode_ms_per_token  (decode time) / (G − 1)
    tokens_per_s         B·(G − 1) / (decode time)       decode throughput
    e2e_tokens_per_s     B·G / (ttft + decode time)      end to end

    bandwidth_fraction   (weights + mean KV history bytes per step) / measured copy
                         bandwidth, over decode_ms_per_token (``engine/infer/throughput.py``)

Decoding takes the engine's path (``engine/infer/static/plan.py``, column ``decode_path``):
on CUDA a static cache whose step is captured in a CUDA graph. There the first two steps
(one eager step that compiles the kernels, then the capture) are timed apart as
``capture_ms`` and the decode metrics count the replayed steps, the steady state a long
generation runs at; on eager paths every step counts.

``warmup_runs`` untimed runs first (allocator, kernel selection), then ``timed_runs``
runs whose median and p90 are reported (columns ``<metric>`` and ``<metric>_p90``).
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from caramba.engine import cancel
from caramba.engine.bench.stats import Row, median_p90, synchronize
from caramba.engine.infer.cache import CachePolicy
from caramba.engine.infer.generate import decoder
from caramba.engine.infer.throughput import throughput
from caramba.engine.manifest.benchmarks import LatencyBenchmark

METRICS = ("prefill_ms", "ttft_ms", "decode_ms_per_token", "tokens_per_s", "e2e_tokens_per_s", "capture_ms",
           "bandwidth_fraction")


def policy_of(config: LatencyBenchmark) -> CachePolicy | None:
    """The cache policy a latency benchmark decodes with (None: no cache)."""
    if not config.use_cache:
        return None
    return CachePolicy.from_config(config.cache, None if config.cache is not None else config.cache_kind)


def one_run(model: nn.Module, ids: torch.Tensor, new_tokens: int, policy: CachePolicy | None,
            device: torch.device, static: bool = True, capture: bool = True) -> dict[str, float | str]:
    """Time one prefill + decode of ``new_tokens`` tokens (module docstring); ``static``/``capture`` as in
    ``engine.infer.decoder`` (False: the growing cache / eager static steps, for before-and-after tables)."""
    batch = ids.shape[0]
    synchronize(device)
    t0 = time.perf_counter()
    state = decoder(model, policy, ids.shape[1] + new_tokens, static, capture)
    logits = state.prefill(ids)
    synchronize(device)
    t1 = time.perf_counter()
    token = logits.argmax(dim=-1, keepdim=True)                                      # (B, 1)
    synchronize(device)
    t2 = time.perf_counter()
    captured = not isinstance(state.path, str) and state.path.captured
    warm = min(2, new_tokens - 1) if captured else 0
    for _ in range(warm):
        token = state.step(token).argmax(dim=-1, keepdim=True)
    synchronize(device)
    t3 = time.perf_counter()
    start = state.cache.nbytes() if state.cache is not None else 0
    for _ in range(new_tokens - 1 - warm):
        token = state.step(token).argmax(dim=-1, keepdim=True)
    synchronize(device)
    t4 = time.perf_counter()
    end = state.cache.nbytes() if state.cache is not None else 0
    steps, decode_s = new_tokens - 1 - warm, t4 - t3
    path = state.path if isinstance(state.path, str) else state.path.describe()
    read = (start + end) / 2 + ((end - start) / (2 * steps) if steps else 0)
    speed = throughput(path, batch, steps, t1 - t0, decode_s, model, read, device)
    return {
        "prefill_ms": 1e3 * (t1 - t0),
        "ttft_ms": 1e3 * (t2 - t0),
        "decode_ms_per_token": speed.decode_ms_per_token,
        "tokens_per_s": speed.tokens_per_s,
        "e2e_tokens_per_s": batch * new_tokens / (t4 - t0),
        "capture_ms": 1e3 * (t3 - t2),
        "bandwidth_fraction": speed.bandwidth_fraction,
        "bytes_per_token": speed.bytes_per_token,
        "decode_path": path,
    }


def measure_point(model: nn.Module, vocab: int, prompt: int, new_tokens: int, batch: int, config: LatencyBenchmark,
                  policy: CachePolicy | None, device: torch.device, seed: int, static: bool = True,
                  capture: bool = True) -> Row:
    """Warm-up and timed runs at one grid point; median and p90 of each metric."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, prompt), generator=generator).to(device)
    for _ in range(config.warmup_runs):
        one_run(model, ids, new_tokens, policy, device, static, capture)
    runs = [one_run(model, ids, new_tokens, policy, device, static, capture) for _ in range(config.timed_runs)]
    row: Row = {"prompt_len": prompt, "gen_len": new_tokens, "batch": batch,
                "cache": "none" if policy is None else policy.describe(), "timed_runs": config.timed_runs,
                "decode_path": runs[-1]["decode_path"], "bytes_per_token": runs[-1]["bytes_per_token"]}
    for metric in METRICS:
        row[metric], row[f"{metric}_p90"] = median_p90([float(r[metric]) for r in runs])
    return row


def latency(model: nn.Module, vocab: int, config: LatencyBenchmark, device: torch.device,
            advance: Any = None) -> list[Row]:
    """Every grid point of one model (``advance()`` is called after each, for a progress bar)."""
    policy = policy_of(config)
    rows = []
    for batch in config.batch_sizes:
        for prompt in config.prompt_lengths:
            for new_tokens in config.generation_lengths:
                cancel.check(f"latency benchmark (batch {batch}, prompt {prompt}, {new_tokens} new tokens)")
                rows.append(measure_point(model, vocab, prompt, new_tokens, batch, config, policy, device,
                                          seed=prompt * 7919 + batch))
                if advance is not None:
                    advance()
    return rows


LATENCY_KEYS = ["benchmark", "model", "cache", "batch", "prompt_len", "gen_len"]
LATENCY_METRICS = [m for metric in METRICS for m in (metric, f"{metric}_p90")]
