"""Which metrics a comparison's figures and tables show, and how each is named for a reader.

The headline metrics are: the primary metric, the validation loss, the first held-out
perplexity, the measured KV-cache bytes at the longest context of the first cache
kind (when the arms ran a memory benchmark), and the decode time per token at the
smallest batch (when they ran a latency benchmark) — at most four, in that order, each
present in every arm. Everything else is in ``arms.csv`` and ``pairs.csv``.
"""

from __future__ import annotations

import re

from caramba.engine.bench.compare.analysis import Comparison
from caramba.engine.bench.compare.metrics import base_of, unit_of

NAMES = {"train_loss": "training loss", "val_loss": "validation loss", "nll": "held-out NLL", "ppl": "perplexity",
         "kv_bytes": "KV cache", "tensor_bytes": "model tensors", "prefill_ms": "prefill", "ttft_ms": "time to first token",
         "decode_ms_per_token": "decode", "tokens_per_s": "decode throughput"}
POINT = re.compile(r"@(?P<cache>[^,]+),B=(?P<batch>\d+),L=(?P<length>\d+)$")
LATENCY_POINT = re.compile(r"@(?P<cache>[^,]+),B=(?P<batch>\d+),P=(?P<prompt>\d+),G=(?P<gen>\d+)$")


def headline_metrics(c: Comparison) -> list[str]:
    """Up to four metrics every arm reports (module docstring)."""
    everywhere = [m for m in c.metrics if all(m in a.summaries for a in c.arms)]
    chosen = [c.primary] if c.primary in everywhere else []
    for m in ["val_loss", *[m for m in everywhere if m.endswith(".ppl")][:1], _longest_kv(everywhere), _decode(everywhere)]:
        if m is not None and m in everywhere and m not in chosen:
            chosen.append(m)
    return chosen[:4] or everywhere[:1]


def _longest_kv(metrics: list[str]) -> str | None:
    kv = [(m, POINT.search(m)) for m in metrics if base_of(m) == "kv_bytes"]
    kv = [(m, p) for m, p in kv if p is not None]
    if not kv:
        return None
    first_kind = kv[0][1]["cache"]
    return max((x for x in kv if x[1]["cache"] == first_kind), key=lambda x: int(x[1]["length"]))[0]


def _decode(metrics: list[str]) -> str | None:
    """The run's own decode time per token at its smallest batch (the first prompt/generation point)."""
    decode = [(m, LATENCY_POINT.search(m)) for m in metrics if base_of(m) == "decode_ms_per_token" and "[" not in m]
    decode = [(m, p) for m, p in decode if p is not None]
    return min(decode, key=lambda x: int(x[1]["batch"]))[0] if decode else None


def display_name(metric: str) -> str:
    """``perplexity``, ``KV cache @ 1,024 tokens (fp16)``, ``decode @ batch 1 (fp16)``."""
    name = NAMES.get(base_of(metric), base_of(metric))
    point, latency = POINT.search(metric), LATENCY_POINT.search(metric)
    if point:
        name += f" @ {int(point['length']):,} tokens ({point['cache']})"
    elif latency:
        name += f" @ batch {latency['batch']} ({latency['cache']})"
    return name


def display_unit(metric: str) -> tuple[str, float]:
    """(unit shown, scale from the raw value): bytes are shown in MiB."""
    unit = unit_of(metric)
    if unit == "bytes":
        return "MiB", 1.0 / (1 << 20)
    return unit, 1.0
