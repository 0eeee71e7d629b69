"""Shared helpers of the training benchmarks: steady-state throughput from a run's metrics.

The trainer reads metrics back once per flush (about a second), right after a host
sync, and stamps every row of that flush with the same ``time_s``. Steady-state steps/s
is therefore measured between two flush boundaries: the first flush that ends at or
after ``warmup`` steps, and the last one.
"""

from __future__ import annotations

import json
from pathlib import Path


def steady_rate(metrics: Path, warmup: int) -> tuple[float, int, float]:
    """(steps per second, steps measured, seconds measured) after ``warmup`` steps."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    rows = [r for r in rows if r["kind"] == "train"]
    boundaries: dict[float, int] = {}
    for row in rows:
        boundaries[row["time_s"]] = max(boundaries.get(row["time_s"], 0), row["step"])
    flushes = sorted((step, t) for t, step in boundaries.items())
    start = next((s, t) for s, t in flushes if s >= warmup)
    end = flushes[-1]
    if end[0] <= start[0]:
        raise ValueError(f"not enough steps after warm-up {warmup} to measure (flushes: {flushes}); raise --steps")
    return (end[0] - start[0]) / (end[1] - start[1]), end[0] - start[0], end[1] - start[1]
