"""``Divergence``: what the trainer does when a loss or gradient norm is NaN/Inf.

The manifest's ``train.on_divergence`` chooses (``DivergenceConfig``):

* ``fail`` (default): detected when the recorder flushes (no extra host sync), the run
  stops at the first non-finite step N and ends ``failed`` with "diverged at step N";
  no checkpoint is written from the diverged weights;
* ``skip``: the ``Stepper`` checks every step before the update (one host sync per
  step) and drops the update of a non-finite step (its row says ``skipped``); more than
  ``max_retries`` consecutive skips fail the run as above;
* ``rollback``: the newest checkpoint is reloaded (weights, optimiser, RNG), the lr is
  multiplied by ``lr_factor`` (kept in later checkpoints, so a resume keeps it) and
  training continues from there; the metrics log is rewound to that step and gets an
  ``event`` row; after ``max_retries`` rollbacks the run fails.
Every decision is announced in the run's log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caramba.engine.manifest.train import DivergenceConfig
from caramba.engine.train.metrics.finite import is_finite


class Diverged(Exception):
    """The run diverged and the manifest's policy cannot continue; the message says where."""


class Divergence:
    """The divergence policy of one run (see the module docstring)."""

    def __init__(self, config: DivergenceConfig, announce: Callable[[str], None]) -> None:
        self.config, self.announce = config, announce
        self.lr_scale = 1.0
        self.rollbacks = 0
        self.diverged_step = 0
        self._skips_in_a_row = 0

    @property
    def skips(self) -> bool:
        """True when the stepper must check each step before updating."""
        return self.config.action == "skip"

    @staticmethod
    def first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The first train row whose loss or gradient norm is non-finite (skipped steps excluded)."""
        for row in rows:
            if row.get("kind") == "train" and not row.get("skipped") and not (
                    is_finite(row.get("loss")) and is_finite(row.get("grad_norm"))):
                return row
        return None

    @staticmethod
    def describe(row: dict[str, Any]) -> str:
        """``diverged at step N (loss nan, grad norm inf)``."""
        return f"diverged at step {row['step']} (loss {row.get('loss'):.4g}, grad norm {row.get('grad_norm'):.4g})"

    def on_step(self, step: int, skipped: bool) -> None:
        """Count consecutive skipped steps; raise :class:`Diverged` past ``max_retries``."""
        if not skipped:
            self._skips_in_a_row = 0
            return
        self._skips_in_a_row += 1
        self.diverged_step = step
        self.announce(f"[yellow]step {step}: non-finite loss or gradient, update skipped (train.on_divergence: skip)[/]")
        if self._skips_in_a_row > self.config.max_retries:
            raise Diverged(f"diverged at step {step}: {self._skips_in_a_row} consecutive non-finite steps skipped "
                           f"(max_retries {self.config.max_retries})")

    def rollback(self, row: dict[str, Any]) -> float:
        """Account for one rollback after ``row`` diverged; return the new lr scale (or raise)."""
        if self.config.action != "rollback":
            raise Diverged(self.describe(row))
        if self.rollbacks >= self.config.max_retries:
            raise Diverged(f"{self.describe(row)} after {self.rollbacks} rollbacks (max_retries {self.config.max_retries})")
        self.rollbacks += 1
        self.lr_scale *= self.config.lr_factor
        return self.lr_scale
