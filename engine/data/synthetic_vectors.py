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
from caramba.engine.data.examples import labelled_batch, split_sizes

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
        return labelled_batch(self.sizes, self.seed, self.n_classes, split, index, batch_size, "dataset.synthetic_vectors",
                              lambda rng, label: self.centres[label] + self.noise * rng.normal(size=self.d_in))
