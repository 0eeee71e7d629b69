"""``VerifyContext``: the models and data a verifier works on.

``reference`` is the teacher when the run has one (``train.teacher_ckpt``); otherwise it
is the same model at its initialisation — the weights before step 1, rebuilt from the
run's seed — and ``reference_kind`` says which (``teacher`` or ``initialisation``). So
without a teacher, fidelity's ΔNLL = trained − initial NLL (negative is good) and the
gate asks "did training help, by at least this much?".

On several ranks (``ranks``: the run's ``DistContext``) every rank verifies its share of the
batches (:meth:`VerifyContext.shares`) and the partial sums are added across ranks
(:meth:`VerifyContext.total`; ``engine/train/distributed/shares.py``) — the numbers of one
process, to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from caramba.engine.data.base import Dataset, Split
from caramba.engine.train.distributed.shares import batch_shares, reduce_values
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
    ranks: Any = None  # the run's DistContext (engine/train/distributed); None: one process

    @property
    def world(self) -> int:
        """How many ranks verify together."""
        return self.ranks.world_size if self.ranks is not None and self.ranks.distributed else 1

    def shares(self, batches: int, phase: str = "verification") -> Iterator[tuple[int, bool]]:
        """(batch index, counted) pairs this rank scores; the ranks stop together when cancelled
        (``engine/train/distributed/shares.py``)."""
        return batch_shares(batches, self.ranks, phase)

    def total(self, values: list[float], op: str = "sum") -> list[float]:
        """``values`` added (or, with ``op`` max, maximised) across the ranks."""
        return reduce_values(self.ranks, values, op)

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
