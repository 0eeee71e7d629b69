"""When a run stops before its last step: convergence and early stopping.

* **Convergence** (``convergence_target``): stop once the training loss has stayed below
  the target for ``convergence_patience`` consecutive steps; ``convergence_max_steps``
  caps the run's length when converging (the smaller of it and ``steps`` is the budget).
* **Early stopping** (``early_stopping``): at each evaluation (``defaults.logging.eval_every``)
  the monitored metric must improve on its best by more than ``min_delta``; after
  ``patience`` evaluations without improvement the run stops.

The counters are checkpointed, so a resumed run stops exactly where an uninterrupted
one would.
"""

from __future__ import annotations

from typing import Any

from caramba.engine.manifest.train import TrainConfig


class Stopping:
    """Convergence and plateau detection of one run (see the module docstring)."""

    def __init__(self, train: TrainConfig, steps: int) -> None:
        self.train = train
        self.max_steps = min(steps, train.convergence_max_steps) if train.convergence_target and train.convergence_max_steps else steps
        self.below = 0
        self.best: float | None = None
        self.stale = 0

    @property
    def needs_every_loss(self) -> bool:
        """Convergence reads every step's loss (one host sync per step)."""
        return self.train.convergence_target is not None

    def on_train_loss(self, loss: float) -> str | None:
        """Feed one step's loss; returns ``"converged"`` when the target has held long enough."""
        target = self.train.convergence_target
        if target is None:
            return None
        self.below = self.below + 1 if loss < target else 0
        return "converged" if self.below >= self.train.convergence_patience else None

    def on_eval(self, metrics: dict[str, float]) -> str | None:
        """Feed one evaluation; returns ``"early_stopping"`` after ``patience`` evaluations without improvement."""
        config = self.train.early_stopping
        if config is None or config.metric not in metrics:
            return None
        value = metrics[config.metric]
        if self.best is None or value < self.best - config.min_delta:
            self.best, self.stale = value, 0
            return None
        self.stale += 1
        return "early_stopping" if self.stale >= config.patience else None

    def state_dict(self) -> dict[str, Any]:
        """Counters for the checkpoint."""
        return {"below": self.below, "best": self.best, "stale": self.stale}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the counters."""
        self.below, self.best, self.stale = state["below"], state["best"], state["stale"]
