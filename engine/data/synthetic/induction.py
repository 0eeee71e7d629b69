"""``dataset.induction_heads``: after ``… A B … A`` predict ``B`` (Olsson et al., 2022; Zoology, MAD).

A random sequence over data ids contains one trigger token ``A`` (id 1, appearing only
there) at a random position followed by a random token ``B``; the sequence ends with the
trigger again, and only the prediction after that last trigger is scored. Solving it
needs the two-layer copy-from-previous-occurrence circuit (an induction head).
Difficulty d sets the sequence length ``16 · 2^(d−1)`` (16 … 256), capped by the window;
the rest of the window is padding.

Token layout: 0 = pad, 1 = trigger, data ids from 2.
"""

from __future__ import annotations

import numpy as np

from caramba.engine.data.synthetic.base import PAD, SyntheticTask

TRIGGER, FIRST_DATA = 1, 2


class InductionHeadsTask(SyntheticTask):
    """One trigger–target pair recalled at the end (see the module docstring)."""

    name = "dataset.induction_heads"

    @property
    def length(self) -> int:
        """Tokens in the meaningful part of the window (the target included)."""
        return min(16 * 2 ** (self.difficulty - 1), self.block_size + 1)

    def check(self) -> None:
        """The sequence has room for trigger, target and final trigger; data ids exist."""
        self.need(self.length >= 5, "the window is too short; raise block_size")
        self.need(self.vocab_size > FIRST_DATA + 1, f"vocab_size must exceed {FIRST_DATA + 1}")

    def example(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Random data with ``A B`` inside and ``A B`` at the end; the final ``B`` is scored."""
        n = self.length
        seq = np.full(self.block_size + 1, PAD, dtype=np.int64)
        seq[:n] = rng.integers(FIRST_DATA, self.vocab_size, size=n)
        position = int(rng.integers(0, n - 3))
        target = seq[position + 1]
        seq[position], seq[n - 2], seq[n - 1] = TRIGGER, TRIGGER, target
        scored = np.zeros(self.block_size, dtype=bool)
        scored[n - 2] = True
        return seq, scored
