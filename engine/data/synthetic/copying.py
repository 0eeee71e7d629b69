"""``dataset.copying`` and ``dataset.selective_copying``: memorise a span and reproduce it.

**Copying** (Zoology / MAD): ``x1 … xL SEP x1 … xL``; the copy after the separator is
scored. Difficulty d sets ``L = 8 · 2^(d−1)`` (8 … 128), capped by the window.

**Selective copying** (MAD, Poli et al. 2024; Mamba, Gu & Dao 2023): ``N`` data tokens
are scattered at random positions of a context filled with a noise token; after ``SEP``
the model emits the data tokens in their order of appearance (scored). Content-aware
selection, not a fixed shift, solves it. Difficulty d sets ``N = 4 · 2^(d−1)`` (4 … 64),
and the context fills the rest of the window.

Token layout: 0 = pad, 1 = separator, 2 = noise (selective copying), data ids from 3.
"""

from __future__ import annotations

import numpy as np

from caramba.engine.data.synthetic.base import PAD, SEP, SyntheticTask

NOISE, FIRST_DATA = 2, 3


class CopyingTask(SyntheticTask):
    """Copy a random span after a separator (see the module docstring)."""

    name = "dataset.copying"

    @property
    def length(self) -> int:
        """Tokens to copy."""
        return min(8 * 2 ** (self.difficulty - 1), self.block_size // 2)

    def check(self) -> None:
        """Room for at least one token to copy and a data vocabulary."""
        self.need(self.length >= 1, "the window cannot hold a span and its copy; raise block_size")
        self.need(self.vocab_size > FIRST_DATA, f"vocab_size must exceed {FIRST_DATA}")

    def example(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``x SEP x`` then padding; scored where the target is part of the copy."""
        n = self.length
        data = rng.integers(FIRST_DATA, self.vocab_size, size=n)
        seq = np.full(self.block_size + 1, PAD, dtype=np.int64)
        seq[:n], seq[n], seq[n + 1: 2 * n + 1] = data, SEP, data
        scored = np.zeros(self.block_size, dtype=bool)
        scored[n: 2 * n] = True  # inputs SEP, x1 … x(L−1) predict x1 … xL
        return seq, scored


class SelectiveCopyingTask(SyntheticTask):
    """Copy the data tokens scattered among noise, in order (see the module docstring)."""

    name = "dataset.selective_copying"

    @property
    def count(self) -> int:
        """Data tokens to select and copy."""
        return 4 * 2 ** (self.difficulty - 1)

    def check(self) -> None:
        """The context holds the data tokens with room for noise; data ids exist."""
        context = self.block_size - self.count
        self.need(context >= 2 * self.count, f"{self.count} data tokens need block_size ≥ {3 * self.count}; "
                  "raise block_size or lower difficulty")
        self.need(self.vocab_size > FIRST_DATA, f"vocab_size must exceed {FIRST_DATA}")

    def example(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Noise context with data at random positions, ``SEP``, then the data in order."""
        n, context = self.count, self.block_size - self.count
        positions = np.sort(rng.choice(context, size=n, replace=False))
        data = rng.integers(FIRST_DATA, self.vocab_size, size=n)
        seq = np.full(self.block_size + 1, NOISE, dtype=np.int64)
        seq[positions], seq[context] = data, SEP
        seq[context + 1: context + 1 + n] = data
        scored = np.zeros(self.block_size, dtype=bool)
        scored[context: context + n] = True
        return seq, scored
