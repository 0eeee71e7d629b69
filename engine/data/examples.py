"""Seeded examples: the machinery every generated dataset shares.

Example ``j`` of a split is drawn from a NumPy generator seeded with ``(seed, split id, j)``
(:func:`example_rng`), and batch ``i`` holds examples ``i·B … i·B + B − 1`` modulo the
split size (:func:`example_indices`), so a batch is a pure function of its index (see
``caramba.engine.data.base``). :func:`labelled_batch` builds the ``inputs``/``targets``
batch of a classification dataset from a per-example sampler.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from caramba.engine.data.base import Split

#: The split's part of every example seed: train and val examples never share a generator.
SPLIT_IDS: dict[str, int] = {"train": 0, "val": 1}


def split_sizes(n: int, val_frac: float) -> dict[str, int]:
    """Examples per split: ``val_frac`` of ``n`` (at least 1 when positive) for val, the rest for train."""
    val = max(1, int(n * val_frac)) if val_frac > 0 else 0
    return {"train": n - val, "val": val}


def example_indices(sizes: dict[str, int], split: Split, index: int, batch_size: int, name: str) -> list[int]:
    """Indices of batch ``index`` of ``split`` (wrapping around); raise on an empty split."""
    if sizes[split] == 0:
        raise ValueError(f"{name}: the {split} split is empty; set defaults.data.val_frac > 0")
    return [(index * batch_size + b) % sizes[split] for b in range(batch_size)]


def example_rng(seed: int, split: Split, j: int) -> np.random.Generator:
    """The generator example ``j`` of ``split`` is drawn from."""
    return np.random.default_rng((seed, SPLIT_IDS[split], j))


def labelled_batch(sizes: dict[str, int], seed: int, n_classes: int, split: Split, index: int, batch_size: int,
                   name: str, features: Callable[[np.random.Generator, int], np.ndarray]) -> dict[str, Tensor]:
    """Batch ``index`` of a classification dataset: ``inputs`` float32 and ``targets`` (B,) int64.

    Each example draws its label y ~ U{0…n_classes−1} first, then ``features(rng, y)``.
    """
    xs, ys = [], []
    for j in example_indices(sizes, split, index, batch_size, name):
        rng = example_rng(seed, split, j)
        label = int(rng.integers(n_classes))
        xs.append(features(rng, label))
        ys.append(label)
    return {"inputs": torch.tensor(np.stack(xs), dtype=torch.float32), "targets": torch.tensor(ys, dtype=torch.long)}
