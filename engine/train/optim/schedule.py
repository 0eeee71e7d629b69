"""Learning-rate schedules as a pure function of the step (so resuming needs no state).

``factor(step)`` multiplies every group's base lr:

* warm-up: ``(step + 1) / warmup_steps`` for ``step < warmup_steps``;
* then, with ``progress = (step − warmup) / max(1, steps − warmup)`` in [0, 1]:
  constant → 1; linear → ``1 − (1 − r)·progress``; cosine →
  ``r + (1 − r)·½(1 + cos(π·progress))``, where ``r = min_lr_ratio``.
"""

from __future__ import annotations

import math

from caramba.engine.manifest.train import ScheduleConfig


class Schedule:
    """The lr multiplier of a run of ``steps`` optimiser steps."""

    def __init__(self, config: ScheduleConfig, steps: int) -> None:
        self.config, self.steps = config, steps

    def factor(self, step: int) -> float:
        """Multiplier of the base lr at optimiser step ``step`` (0-based)."""
        c = self.config
        if step < c.warmup_steps:
            return (step + 1) / c.warmup_steps
        if c.kind == "constant":
            return 1.0
        progress = min(1.0, (step - c.warmup_steps) / max(1, self.steps - c.warmup_steps))
        if c.kind == "linear":
            return 1.0 - (1.0 - c.min_lr_ratio) * progress
        return c.min_lr_ratio + (1.0 - c.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
