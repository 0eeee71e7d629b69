"""Metrics rows stay valid JSON: a non-finite number becomes ``null`` and is flagged.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which no JSON parser
accepts. Every row the trainer emits goes through :func:`finite_row`: each non-finite
float is replaced by ``None`` and its key listed under ``"nonfinite"``, so a reader
knows the value was NaN/Inf rather than missing.
"""

from __future__ import annotations

import math
from typing import Any


def is_finite(value: Any) -> bool:
    """True for a finite float/int (and for anything that is not a number)."""
    return not isinstance(value, float) or math.isfinite(value)


def finite_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with non-finite floats as None and their keys in ``nonfinite`` (when any)."""
    bad = [key for key, value in row.items() if not is_finite(value)]
    if not bad:
        return row
    return {**{k: (None if k in bad else v) for k, v in row.items()}, "nonfinite": bad}


def finite_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Only the finite entries of a metrics dict (for checkpoint meta and results)."""
    return {k: v for k, v in metrics.items() if is_finite(v)}
