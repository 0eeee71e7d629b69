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
from caramba.engine.manifest.benchmarks import LatencyBenchmark

METRICS = ("prefill_ms", "ttft_ms", "decode_ms_per_token", "tokens_per_s", "e2e_tokens_per_s")


def policy_of(config: LatencyBenchmark) -> CachePolicy | None:
    """The cache policy a latency benchmark decodes with (None: no cache)."""
    if not config.use_cache:
        return None
    return CachePolicy.from_config(config.cache, None if config.cache is not None else config.cache_kind)


def one_run(model: nn.Module, ids: torch.Tensor, new_tokens: int, policy: CachePolicy | None,
            device: torch.device) -> dict[str, float]:
    """Time one prefill + decode of ``new_tokens`` tokens (module docstring)."""
    batch = ids.shape[0]
    synchronize(device)
    t0 = time.perf_counter()
    state = decoder(model, policy, ids.shape[1] + new_tokens)
    logits = state.prefill(ids)
    synchronize(device)
    t1 = time.perf_counter()
    token = logits.argmax(dim=-1, keepdim=True)                                      # (B, 1)
    synchronize(device)
    t2 = time.perf_counter()
    for _ in range(new_tokens - 1):
        token = state.step(token).argmax(dim=-1, keepdim=True)
    synchronize(device)
    t3 = time.perf_counter()
    steps, decode_s = new_tokens - 1, t3 - t2
    return {
        "prefill_ms": 1e3 * (t1 - t0),
        "ttft_ms": 1e3 * (t2 - t0),
        "decode_ms_per_token": 1e3 * decode_s / steps if steps else float("nan"),
        "tokens_per_s": batch * steps / decode_s if steps else float("nan"),
        "e2e_tokens_per_s": batch * new_tokens / (t3 - t0),
    }


def measure_point(model: nn.Module, vocab: int, prompt: int, new_tokens: int, batch: int, config: LatencyBenchmark,
                  policy: CachePolicy | None, device: torch.device, seed: int) -> Row:
    """Warm-up and timed runs at one grid point; median and p90 of each metric."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, prompt), generator=generator).to(device)
    for _ in range(config.warmup_runs):
        one_run(model, ids, new_tokens, policy, device)
    runs = [one_run(model, ids, new_tokens, policy, device) for _ in range(config.timed_runs)]
    row: Row = {"prompt_len": prompt, "gen_len": new_tokens, "batch": batch,
                "cache": "none" if policy is None else policy.describe(), "timed_runs": config.timed_runs}
    for metric in METRICS:
        row[metric], row[f"{metric}_p90"] = median_p90([r[metric] for r in runs])
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
