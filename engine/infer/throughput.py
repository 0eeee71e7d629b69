"""Decode throughput against its bandwidth bound: what a token must read, and how fast the device reads.

A batch-B decode step reads every weight once (the token embedding table excepted: only B
rows of it, unless the head shares it) plus the whole KV history (codes + scales for q8/q4).
Those bytes over the device's measured copy bandwidth are the time no implementation can
beat; ``bandwidth_fraction`` = that bound / the measured time per step. The bandwidth is
measured once per device and process: a large device-to-device copy, counting bytes read
plus bytes written (as ``benchmarks/kernels`` measures its ceiling).
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from caramba.engine.model.layers.positions import PositionalEmbeddingLayer


@dataclass(frozen=True)
class Throughput:
    """One generation's speed: times, tokens/s, bytes per step, and the fraction of the bandwidth bound."""

    path: str
    prefill_ms: float
    decode_ms_per_token: float
    tokens_per_s: float
    bytes_per_token: int
    bandwidth_gbps: float
    bound_ms: float
    bandwidth_fraction: float

    def row(self) -> dict[str, object]:
        """The fields as a flat dict (for JSON and benchmark rows)."""
        return asdict(self)

    def line(self) -> str:
        """One human line, e.g. ``decode 812 tokens/s (1.23 ms/token), 8.1 % of the bandwidth bound …``."""
        return (f"decode {self.tokens_per_s:,.0f} tokens/s ({self.decode_ms_per_token:.3f} ms/token), "
                f"{100 * self.bandwidth_fraction:.1f} % of the bandwidth bound ({self.bytes_per_token / 1e6:.1f} MB/token "
                f"at {self.bandwidth_gbps:,.0f} GB/s = {self.bound_ms:.3f} ms); prefill {self.prefill_ms:.1f} ms; "
                f"{self.path}")


def weight_bytes_per_token(model: nn.Module) -> int:
    """Bytes of the weights one decode step reads: all parameters but untied embedding and position tables."""
    heads = {m.weight.data_ptr() for m in model.modules() if isinstance(m, nn.Linear)}
    skipped = {m.weight.data_ptr() for m in model.modules() if isinstance(m, nn.Embedding)} - heads
    skipped |= {m.table.data_ptr() for m in model.modules() if isinstance(m, PositionalEmbeddingLayer)}
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if p.data_ptr() in seen or p.data_ptr() in skipped:
            continue
        seen.add(p.data_ptr())
        total += p.numel() * p.element_size()
    return total


@functools.lru_cache(maxsize=8)
def copy_bandwidth(device: str) -> float:
    """Bytes/s of a device-to-device copy on ``device`` (read + write counted), best of five."""
    dev = torch.device(device)
    n = (1 << 30 if dev.type == "cuda" else 1 << 26) // 4
    src = torch.randn(n, device=dev)
    dst = torch.empty_like(src)
    best = float("inf")
    for _ in range(6):
        if dev.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            dst.copy_(src)
            end.record()
            end.synchronize()
            seconds = start.elapsed_time(end) / 1e3
        else:
            t0 = time.perf_counter()
            dst.copy_(src)
            seconds = time.perf_counter() - t0
        best = min(best, seconds)
    return 2 * n * 4 / best


def throughput(path: str, batch: int, steps: int, prefill_s: float, decode_s: float, model: nn.Module,
               cache_bytes: float, device: torch.device) -> Throughput:
    """A :class:`Throughput` from measured times; ``cache_bytes`` = the history one step reads (its mean)."""
    per_token = decode_s / steps if steps else float("nan")
    nbytes = int(weight_bytes_per_token(model) + cache_bytes)
    bandwidth = copy_bandwidth(str(device))
    bound = nbytes / bandwidth
    return Throughput(path, 1e3 * prefill_s, 1e3 * per_token, batch * steps / decode_s if steps else float("nan"),
                      nbytes, bandwidth / 1e9, 1e3 * bound, bound / per_token if steps else float("nan"))
