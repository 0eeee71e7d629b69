"""``Quiet``: the metrics log, sinks and live display of a rank that is not rank 0.

Only rank 0 owns the run's console and files; the other ranks train the same steps
with this stand-in, which keeps the trainer's loop free of rank checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class Quiet:
    """Accepts what ``MetricsLog``, ``Sinks`` and ``Display`` accept and writes nothing."""

    notes: list[str] = []

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Rows are rank 0's to write."""

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Rows are rank 0's to send."""

    def update(self, step: int, loss: float | None, tokens_per_s: float | None) -> None:
        """The live view is rank 0's."""

    def stop(self) -> None:
        """Nothing to stop."""

    def close(self) -> None:
        """Nothing to close."""

    def to_parquet(self, path: Path) -> Path:
        """Rank 0 writes the Parquet file; its path is returned unchanged."""
        return path
