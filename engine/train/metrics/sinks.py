"""Optional metric sinks besides JSONL/Parquet: TensorBoard event files and Weights & Biases.

* ``logging.tensorboard: true`` writes event files to ``<run>/artifacts/tensorboard``
  (``torch.utils.tensorboard``; needs the tensorboard package, which caramba depends on).
* ``logging.wandb: true`` logs to W&B only when the ``wandb`` package is importable;
  otherwise one loud line is printed at start-up and recorded in ``environment.json``
  (``notes``), and the run goes on — metrics still reach JSONL and Parquet.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from caramba.engine.manifest.defaults import LoggingDefaults

WANDB_MISSING = "W&B requested but wandb is not installed: metrics go to JSONL/Parquet only"


class Sinks:
    """TensorBoard and W&B writers of one run (each only when asked for and available)."""

    def __init__(self, logging: LoggingDefaults, run_dir: Path, run_id: str, config: dict[str, Any],
                 announce: Callable[[str], None]) -> None:
        self.notes: list[str] = []
        self._tb: Any = None
        self._wandb: Any = None
        if logging.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(run_dir / "artifacts" / "tensorboard"))
        if logging.wandb:
            if importlib.util.find_spec("wandb") is None:
                announce(f"[bold yellow]{WANDB_MISSING}[/]")
                self.notes.append(WANDB_MISSING)
            else:
                import wandb

                self._wandb = wandb.init(project=logging.wandb_project, entity=logging.wandb_entity or None,
                                         mode=logging.wandb_mode, name=run_id, id=run_id, resume="allow", config=config,
                                         dir=str(run_dir))

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Forward numeric fields of each row (keyed by its step)."""
        for row in rows:
            step = int(row["step"])
            values = {k: v for k, v in row.items() if k not in ("step", "kind") and isinstance(v, (int, float))}
            if self._tb is not None:
                for key, value in values.items():
                    self._tb.add_scalar(f"{row.get('kind', 'train')}/{key}", value, step)
            if self._wandb is not None:
                self._wandb.log({f"{row.get('kind', 'train')}/{k}": v for k, v in values.items()}, step=step)

    def close(self) -> None:
        """Flush and close the writers."""
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
