"""The shared machinery of the synthetic tasks: examples as a pure function of their index.

A task subclass implements ``example(rng) -> (sequence, scored)``: ``sequence`` holds
``block_size + 1`` token ids and ``scored[t]`` says whether predicting ``sequence[t + 1]``
from ``sequence[: t + 1]`` counts. Example ``j`` of a split is drawn from a NumPy
generator seeded with ``(data_seed, split, j)``; batch ``i`` holds examples
``i·B … i·B + B − 1`` (modulo the split size), so sampling is deterministic and resumable
with nothing but the batch index. Unscored targets are ``-100`` (the ``ignore_index`` of
``objective.next_token_ce``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from caramba.engine.data.base import Split
from caramba.engine.data.examples import example_indices, example_rng

IGNORE = -100
PAD, SEP = 0, 1


class SyntheticTask(ABC):
    """A finite, seeded set of generated sequences (a registered dataset)."""

    name = "synthetic"

    def __init__(self, vocab_size: int, block_size: int, difficulty: int, num_examples: int, data_seed: int | None,
                 *, seed: int, val_frac: float, base_dir: Path | None = None) -> None:
        self.vocab_size, self.block_size, self.difficulty = vocab_size, block_size, difficulty
        self.seed = seed if data_seed is None else data_seed
        self.sizes = {"train": num_examples, "val": max(1, int(num_examples * val_frac)) if val_frac > 0 else 0}
        self.check()

    def check(self) -> None:
        """Raise ValueError when vocab/window cannot hold the task at this difficulty."""

    @abstractmethod
    def example(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One (sequence (T+1,), scored (T,)) pair; see the module docstring."""

    def split_size(self, split: Split) -> int:
        """Examples in ``split``."""
        return self.sizes[split]

    def batch(self, split: Split, index: int, batch_size: int) -> dict[str, Tensor]:
        """Batch ``index``: ``inputs`` (B, T) and ``targets`` (B, T) with unscored positions = -100."""
        seqs = np.empty((batch_size, self.block_size + 1), dtype=np.int64)
        scored = np.empty((batch_size, self.block_size), dtype=bool)
        for b, j in enumerate(example_indices(self.sizes, split, index, batch_size, self.name)):
            seqs[b], scored[b] = self.example(example_rng(self.seed, split, j))
        targets = np.where(scored, seqs[:, 1:], IGNORE)
        return {"inputs": torch.from_numpy(seqs[:, :-1].copy()), "targets": torch.from_numpy(targets)}

    def need(self, condition: bool, message: str) -> None:
        """Raise an actionable ValueError naming the task when ``condition`` is false."""
        if not condition:
            raise ValueError(f"{self.name} (difficulty {self.difficulty}, vocab_size {self.vocab_size}, "
                             f"block_size {self.block_size}): {message}")
