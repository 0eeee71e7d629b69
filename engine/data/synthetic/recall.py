"""``dataset.mqar``: multi-query associative recall (Zoology; Arora et al., 2023, arXiv:2312.04927).

A sequence first lists ``P`` key–value pairs ``k1 v1 k2 v2 … kP vP``, then queries every
key once, in a random order, each followed by its value: ``kq1 vq1 kq2 vq2 …``. Only the
value after a *queried* key is scored, so a model must store all pairs and recall them
by key — the gap between attention and fixed-state recurrent models this task exposes.
The rest of the window is padding (token 0, unscored).

Token layout: 0 = pad, keys from ``[1, 1 + K)``, values from ``[1 + K, vocab_size)`` with
``K = (vocab_size − 1) // 2``. Difficulty d sets ``P = 4 · 2^(d−1)`` pairs (4, 8, 16, 32, 64).
"""

from __future__ import annotations

import numpy as np

from caramba.engine.data.synthetic.base import PAD, SyntheticTask


class MQARTask(SyntheticTask):
    """Multi-query associative recall (see the module docstring)."""

    name = "dataset.mqar"

    @property
    def pairs(self) -> int:
        """Key–value pairs per example."""
        return 4 * 2 ** (self.difficulty - 1)

    def check(self) -> None:
        """The pairs and their queries fit the window; keys and values fit the vocabulary."""
        self.need(4 * self.pairs <= self.block_size + 1,
                  f"{self.pairs} pairs and their queries need block_size ≥ {4 * self.pairs - 1}; raise block_size or lower difficulty")
        self.need((self.vocab_size - 1) // 2 >= self.pairs,
                  f"{self.pairs} distinct keys need vocab_size ≥ {2 * self.pairs + 1}; raise vocab_size or lower difficulty")

    def example(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Pairs, then each key queried once; scored where the next token is a queried value."""
        n_keys = (self.vocab_size - 1) // 2
        keys = 1 + rng.choice(n_keys, size=self.pairs, replace=False)
        values = 1 + n_keys + rng.integers(0, self.vocab_size - 1 - n_keys, size=self.pairs)
        order = rng.permutation(self.pairs)
        seq = np.full(self.block_size + 1, PAD, dtype=np.int64)
        seq[0: 2 * self.pairs: 2], seq[1: 2 * self.pairs: 2] = keys, values
        start = 2 * self.pairs
        seq[start: 4 * self.pairs: 2], seq[start + 1: 4 * self.pairs: 2] = keys[order], values[order]
        scored = np.zeros(self.block_size, dtype=bool)
        scored[start: 4 * self.pairs: 2] = True  # input is a queried key → target is its value
        return seq, scored
