"""``VerifyContext``: the models and data a verifier works on.

``reference`` is the teacher when the run has one (``train.teacher_ckpt``); otherwise it
is the same model at its initialisation — the weights before step 1, rebuilt from the
run's seed — and ``reference_kind`` says which (``teacher`` or ``initialisation``). So
without a teacher, fidelity's ΔNLL = trained − initial NLL (negative is good) and the
gate asks "did training help, by at least this much?".
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from caramba.engine.data.base import Dataset, Split
from caramba.engine.train.objective import Objective


@dataclass
class VerifyContext:
    """Inputs of every verifier (see the module docstring)."""

    student: nn.Module
    reference: nn.Module | None
    reference_kind: str
    objective: Objective
    dataset: Dataset
    batch_size: int
    block_size: int
    device: torch.device
    autocast: Callable[[], AbstractContextManager[object]]
    base_dir: Path

    def split(self, requested: str) -> Split:
        """``auto`` → ``val`` when it has examples, else ``train``."""
        if requested == "auto":
            return "val" if self.dataset.split_size("val") > 0 else "train"
        if self.dataset.split_size(requested) == 0:  # type: ignore[arg-type]
            raise ValueError(f"verify asks for the {requested} split, which is empty; use split: auto or set defaults.data.val_frac > 0")
        return requested  # type: ignore[return-value]

    def need_reference(self, what: str) -> nn.Module:
        """The reference model, or an actionable error naming the gate that needs it."""
        if self.reference is None:
            raise ValueError(f"{what} needs a reference model (a teacher via train.teacher_ckpt, or the initial weights)")
        return self.reference
