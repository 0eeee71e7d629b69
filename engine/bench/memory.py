"""Memory: measured peak memory of a prefill and measured bytes of the real KV cache.

For every sequence length L × batch B × cache kind, a random prompt (B, L) is prefilled
into a fresh cache of that kind with capacity L, then

* ``kv_bytes`` = ``ModelCache.nbytes()``: the bytes of the tensors the cache holds
  (dense buffers; q8/q4 codes — two 4-bit codes per byte — plus float16 scales);
* ``peak_bytes``: the process's peak during the prefill — the CUDA caching allocator's
  ``max_memory_allocated`` on a GPU (after ``reset_peak_memory_stats``), the resident set
  size sampled every millisecond from ``/proc/self/statm`` on the CPU;
  ``peak_delta_bytes`` is that peak minus the reading just before the prefill.

* ``weight_bytes``: the model's parameters and buffers (distinct storages, tied weights once);
  ``tensor_bytes`` = ``weight_bytes`` + the cache's allocated bytes: the device memory the
  model's own tensors hold at that context, measured from the live tensors — unlike the
  peak, not the whole process (on a GPU ``cuda_allocated_bytes`` adds the allocator's count).

``kv_vs_fp16`` is this kind's cache bytes over the fp16 cache's at the same point (0.53 for
q8: the q8 cache takes 0.53 of the fp16 bytes; 1.0 for fp16).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from caramba.engine import cancel
from caramba.engine.bench.stats import Row, synchronize
from caramba.engine.infer.cache import CachePolicy, ModelCache
from caramba.engine.manifest.benchmarks import MemoryBenchmark
from caramba.engine.model.context import ForwardContext

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
STATM = Path("/proc/self/statm")


def rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc/self/statm``)."""
    if not STATM.is_file():
        raise OSError("CPU peak memory needs /proc/self/statm (Linux); set measure_peak: false on this OS")
    return int(STATM.read_text().split()[1]) * PAGE


class RssSampler:
    """Samples the RSS every ``interval`` seconds in a thread; ``peak`` is the largest reading."""

    def __init__(self, interval: float = 1e-3) -> None:
        self.interval, self.peak = interval, rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


@torch.no_grad()
def measure_point(model: nn.Module, vocab: int, length: int, batch: int, policy: CachePolicy,
                  config: MemoryBenchmark, device: torch.device) -> Row:
    """Prefill (B, L) into a fresh cache of ``policy``; measured cache bytes and peak memory."""
    ids = torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(length)).to(device)
    cache = ModelCache(policy, capacity=length)
    row: Row = {"kind": policy.kind, "cache": policy.describe(), "seq_len": length, "batch": batch}
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        model(ids, ForwardContext(cache=cache))
        synchronize(device)
        peak, method = torch.cuda.max_memory_allocated(device), "cuda_allocator"
    elif config.measure_peak:
        with RssSampler() as sampler:
            before = sampler.peak
            model(ids, ForwardContext(cache=cache))
        peak, method = sampler.peak, "rss_sampled_1ms"
    else:
        before = peak = 0
        method = "none"
        model(ids, ForwardContext(cache=cache))
    if config.measure_peak:
        row.update(peak_bytes=peak, peak_delta_bytes=peak - before, peak_method=method)
    if config.measure_kvcache:
        row.update(kv_bytes=cache.nbytes(), kv_bytes_per_token=cache.nbytes() / (batch * length))
        weights = weight_bytes(model)
        row.update(weight_bytes=weights, tensor_bytes=weights + cache.allocated_nbytes())
        if device.type == "cuda":
            row["cuda_allocated_bytes"] = torch.cuda.memory_allocated(device)
    return row


def weight_bytes(model: nn.Module) -> int:
    """Bytes of the model's parameters and buffers, each distinct storage counted once (tied weights once)."""
    seen: dict[tuple[str, int], int] = {}
    for tensor in [*model.parameters(), *model.buffers()]:
        storage = tensor.untyped_storage()
        seen[(str(tensor.device), storage.data_ptr())] = storage.nbytes()
    return sum(seen.values())


def memory(model: nn.Module, vocab: int, config: MemoryBenchmark, device: torch.device, advance: Any = None) -> list[Row]:
    """Every (batch, length, kind) point of one model, with ``vs_fp16`` ratios filled in."""
    rows = []
    for batch in config.batch_sizes:
        for length in config.sequence_lengths:
            for kind in config.quantization_modes:
                cancel.check(f"memory benchmark (batch {batch}, length {length}, {kind})")
                policy = CachePolicy.from_config(config.cache, kind)
                rows.append(measure_point(model, vocab, length, batch, policy, config, device))
                if advance is not None:
                    advance()
    if config.measure_kvcache:
        fp16 = {(r["batch"], r["seq_len"]): r["kv_bytes"] for r in rows if r["kind"] == "fp16"}
        for r in rows:
            base = fp16.get((r["batch"], r["seq_len"]))
            r["kv_vs_fp16"] = r["kv_bytes"] / base if base else None
    return rows


MEMORY_KEYS = ["benchmark", "model", "kind", "cache", "batch", "seq_len"]
MEMORY_METRICS = ["kv_bytes", "kv_bytes_per_token", "kv_vs_fp16", "weight_bytes", "tensor_bytes", "peak_bytes",
                  "peak_delta_bytes"]
