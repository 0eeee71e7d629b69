"""``dataset.synthetic_images``: noisy copies of seed-derived class templates.

Each class k has a smooth template: a 4×4 (per channel) N(0, 1) pattern drawn from the
seed and upsampled (nearest) to ``image_size``. Example j of a split has label
y ~ U{0…n_classes−1} and pixels template_y + noise·N(0, 1), drawn from a generator seeded
with (seed, split, j). A small ViT separates the classes within a few steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from caramba.engine.data.base import Split
from caramba.engine.data.examples import labelled_batch, split_sizes


class SyntheticImages:
    """Class-template images with Gaussian noise (module docstring)."""

    def __init__(self, n_samples: int = 4096, image_size: int = 16, channels: int = 3, n_classes: int = 4, noise: float = 0.5,
                 *, seed: int, val_frac: float, base_dir: Path | None = None) -> None:
        self.shape, self.n_classes, self.noise, self.seed = (channels, image_size, image_size), n_classes, noise, seed
        coarse = np.random.default_rng((seed, 11)).normal(size=(n_classes, channels, 4, 4))
        reps = -(-image_size // 4)
        self.templates = np.kron(coarse, np.ones((1, 1, reps, reps)))[:, :, :image_size, :image_size]
        self.sizes = split_sizes(n_samples, val_frac)

    def split_size(self, split: Split) -> int:
        """Examples in ``split``."""
        return self.sizes[split]

    def batch(self, split: Split, index: int, batch_size: int) -> dict[str, Tensor]:
        """``inputs`` (B, C, H, W) float32 and ``targets`` (B,) int64 class ids."""
        return labelled_batch(self.sizes, self.seed, self.n_classes, split, index, batch_size, "dataset.synthetic_images",
                              lambda rng, label: self.templates[label] + self.noise * rng.normal(size=self.shape))
