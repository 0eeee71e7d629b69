"""``BenchResults``: what a set of benchmarks measured, before it is written as artifacts.

``rows[type]`` holds the aggregated rows (mean and spread across repeats) of every
benchmark of that type (``perplexity``, ``latency``, ``memory``), each row naming its
``benchmark`` id and ``model``; ``raw[type]`` the per-repeat rows they came from;
``failures`` one entry per benchmark that raised (its id, type, error and traceback);
``provenance`` the (run id, manifest sha256) pairs the numbers come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
TYPES = ("perplexity", "latency", "memory")


@dataclass
class BenchResults:
    """Aggregated rows, raw rows, failures and provenance (module docstring)."""

    provenance: list[tuple[str, str]]
    rows: dict[str, list[Row]] = field(default_factory=dict)
    raw: dict[str, list[Row]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    metrics: list[Row] = field(default_factory=list)

    def add(self, kind: str, rows: list[Row], raw: list[Row]) -> None:
        """Append one benchmark's aggregated and raw rows to its type's tables."""
        self.rows.setdefault(kind, []).extend(rows)
        self.raw.setdefault(kind, []).extend(raw)

    @property
    def status(self) -> str:
        """``failed`` when any benchmark failed, else ``succeeded``."""
        return "failed" if self.failures else "succeeded"

    @property
    def compare(self) -> bool:
        """True when the rows come from several runs (a side-by-side comparison)."""
        return len({run for run, _ in self.provenance}) > 1
