"""``dataset.synthetic_vectors``: labelled points around seed-derived class centres.

The rule: ``n_classes`` centres c_k ~ N(0, 4·I) in ``d_in`` dimensions are drawn from the
seed; example j of a split has label y ~ U{0…n_classes−1} and features
x = c_y + noise·N(0, I), drawn from a generator seeded with (seed, split, j). An MLP
learns it in a few steps; the same points serve as data x₀ for the diffusion preset.
Batch ``i`` holds examples i·B … i·B+B−1 (modulo the split size).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from caramba.engine.data.base import Split

SPLIT_IDS = {"train": 0, "val": 1}


def split_sizes(n: int, val_frac: float) -> dict[str, int]:
    """Examples per split: ``val_frac`` of ``n`` (at least 1 when positive) for val, the rest for train."""
    val = max(1, int(n * val_frac)) if val_frac > 0 else 0
    return {"train": n - val, "val": val}


def example_indices(sizes: dict[str, int], split: Split, index: int, batch_size: int, name: str) -> list[int]:
    """Indices of batch ``index`` of ``split`` (wrapping around); raise on an empty split."""
    if sizes[split] == 0:
        raise ValueError(f"{name}: the {split} split is empty; set defaults.data.val_frac > 0")
    return [(index * batch_size + b) % sizes[split] for b in range(batch_size)]


class SyntheticVectors:
    """Clustered vectors with class labels (module docstring)."""

    def __init__(self, d_in: int, n_samples: int = 4096, n_classes: int = 4, noise: float = 0.5,
                 *, seed: int, val_frac: float, base_dir: Path | None = None) -> None:
        self.d_in, self.n_classes, self.noise, self.seed = d_in, n_classes, noise, seed
        self.centres = np.random.default_rng((seed, 7)).normal(0.0, 2.0, size=(n_classes, d_in))
        self.sizes = split_sizes(n_samples, val_frac)

    def split_size(self, split: Split) -> int:
        """Examples in ``split``."""
        return self.sizes[split]

    def batch(self, split: Split, index: int, batch_size: int) -> dict[str, Tensor]:
        """``inputs`` (B, d_in) float32 and ``targets`` (B,) int64 class ids."""
        xs, ys = [], []
        for j in example_indices(self.sizes, split, index, batch_size, "dataset.synthetic_vectors"):
            rng = np.random.default_rng((self.seed, SPLIT_IDS[split], j))
            label = int(rng.integers(self.n_classes))
            xs.append(self.centres[label] + self.noise * rng.normal(size=self.d_in))
            ys.append(label)
        return {"inputs": torch.tensor(np.stack(xs), dtype=torch.float32), "targets": torch.tensor(ys, dtype=torch.long)}
