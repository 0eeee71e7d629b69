"""What a trainer is given (``TrainJob``) and what it returns (``TrainResult``).

The run orchestration (``engine/run``) builds the model from the seed, the dataset, the
objective and the run directory, and hands them over in a ``TrainJob``; a trainer
(``trainer.standard``, ``trainer.upcycle`` …) implements ``fit(job) -> TrainResult``.
Trainers never read the manifest file, the workspace or the run store themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from rich.console import Console
from torch import nn

from caramba.engine.data.base import Dataset
from caramba.engine.manifest.defaults import Defaults
from caramba.engine.manifest.targets import Run
from caramba.engine.train.objective import Objective


@dataclass
class TrainJob:
    """Everything one training run needs.

    Attributes:
        run_id: the run store id (names W&B runs, labels the display).
        model: the freshly built model (weights from the run's seed), on the CPU.
        objective, dataset: the target's objective and dataset instances.
        run: the manifest run (seed, steps, ``train`` block).
        defaults: the manifest's defaults (data, logging, runtime).
        run_dir: the run directory (checkpoints/, metrics.jsonl, artifacts/).
        device: where to train.
        apples_to_apples: the manifest's comparability guarantee (no autotuning).
        console: where the live display draws.
        announce: prints one line to the console and the run's log.txt.
        progress: called with the completed step count at each metrics flush (status).
        cancelled: returns True once the run was asked to stop (SIGTERM).
        strategy: this rank's distributed strategy (``engine/train/distributed``); None: one process.
        teacher: the run's teacher (``engine/upcycle/teacher.py``: model, config, description) for
            trainers that distil (``trainer.upcycle``); None otherwise.
    """

    run_id: str
    model: nn.Module
    objective: Objective
    dataset: Dataset
    run: Run
    defaults: Defaults
    run_dir: Path
    device: torch.device
    apples_to_apples: bool
    console: Console
    announce: Callable[[str], None]
    progress: Callable[[int], None]
    cancelled: Callable[[], bool]
    strategy: Any = None
    teacher: Any = None


@dataclass
class TrainResult:
    """The outcome of ``fit``: final step, why it stopped, and the numbers worth keeping.

    ``stopped`` is ``completed``, ``converged``, ``early_stopping``, ``cancelled`` or
    ``diverged`` (then ``diverged`` says where: "diverged at step N …", and the run fails).
    """

    step: int
    stopped: str
    resumed_from: int | None
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diverged: str | None = None


class Trainer(Protocol):
    """A registered trainer (constructed from its config fields as flat kwargs)."""

    def fit(self, job: TrainJob) -> TrainResult:
        """Train ``job.model`` in place (resuming when a checkpoint exists) and report."""
        ...
