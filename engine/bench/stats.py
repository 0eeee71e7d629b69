"""Honest aggregation: medians and p90 within a repeat, mean and spread across repeats.

Within one repeat, the timed runs of a measurement give a median (the typical run) and
a p90 (the slow tail; linear interpolation between order statistics, NumPy's default).
Across ``repeats``, every metric is reported as the mean over repeats with its sample
standard deviation (ddof = 1; 0 for a single repeat) — never the best repeat.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

Row = dict[str, Any]


def median_p90(samples: list[float]) -> tuple[float, float]:
    """(median, 90th percentile) of timed samples."""
    if not samples:
        return math.nan, math.nan
    values = np.asarray(samples, dtype=np.float64)
    return float(np.median(values)), float(np.percentile(values, 90))


def aggregate(rows: list[Row], keys: list[str], metrics: list[str]) -> list[Row]:
    """Group per-repeat ``rows`` by ``keys``; each metric m becomes m (mean) and m_std.

    Rows keep the first-seen order of their groups; non-metric, non-key columns are taken
    from the group's first row; ``repeats`` counts the rows of each group.
    """
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    out = []
    for members in groups.values():
        merged = {k: v for k, v in members[0].items() if k != "repeat"}
        for m in metrics:
            values = [float(r[m]) for r in members if r.get(m) is not None]
            if not values:
                continue
            merged[m] = float(np.mean(values))
            merged[f"{m}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        merged["repeats"] = len(members)
        out.append(merged)
    return out


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a wall-clock reading covers it (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
