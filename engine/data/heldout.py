"""The evaluation protocol: which held-out tokens every held-out number of a run is computed on.

Defined here once, for a token file, and used by every consumer:

* **split** — the validation split: the last ``defaults.data.val_frac`` of the token file
  (tokens ``lo … hi−1``; ``engine/data/tokens.py``);
* **windows** — non-overlapping windows of ``L = block_size`` inputs plus one target
  token, from the split's start: window w starts at ``lo + w·L`` and scores its L
  targets, ``W = ⌊(hi − lo − 1) / L⌋`` windows in all (the last ``(hi − lo − 1) mod L``
  targets are never scored);
* **order** — a fixed shuffle of the W windows (seeded by W, never by the run's seed), so
  every run, seed and arm of a comparison is scored on the same windows, and an estimate
  on k windows takes the first k: a sample spread over the whole split;
* **the whole protocol** — all W windows, ``W·L`` targets.

Consumers: the trainer's ``val_loss`` and the fidelity gate read validation batches
through ``TokenDataset.batch("val", i, B)`` = windows ``order[i·B … i·B+B−1]`` (an
estimate on ``eval_iters·B`` or ``batches·B`` windows; past W the order wraps), the
perplexity benchmark scores all W windows when its ``block_size`` is L, its stride L and
it has no ``num_batches`` cap (:func:`window_plan` is its plan too), and the comparison
tables and ``caramba run`` print :meth:`HeldOut.describe` once and each number's share.
A run writes its protocol to ``heldout.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np


def window_plan(n_tokens: int, block_size: int, stride: int) -> list[tuple[int, int]]:
    """(start, scored targets) of every full window over ``n_tokens`` tokens: starts every ``stride``, the
    first window scores all ``block_size`` targets, later ones their last ``stride`` (stride = block: the protocol)."""
    if stride > block_size:
        raise ValueError(f"perplexity stride {stride} > block_size {block_size} would skip tokens; use stride ≤ block_size")
    starts = range(0, max(n_tokens - block_size, 0), stride)
    return [(s, block_size if i == 0 else stride) for i, s in enumerate(starts)]


@dataclass(frozen=True)
class HeldOut:
    """The held-out windows of one token file's validation split (module docstring)."""

    source: str
    lo: int
    hi: int
    block_size: int

    @property
    def windows(self) -> int:
        """W: full windows of ``block_size`` + 1 tokens in the split."""
        return len(window_plan(self.hi - self.lo, self.block_size, self.block_size))

    @property
    def tokens(self) -> int:
        """Targets the whole protocol scores (W·L)."""
        return self.windows * self.block_size

    @cached_property
    def order(self) -> np.ndarray:
        """The fixed shuffle of the window numbers 0 … W−1 (seeded by W alone)."""
        return np.random.default_rng(self.windows).permutation(self.windows)

    def starts(self, index: int, batch_size: int) -> np.ndarray:
        """Token positions of the windows of validation batch ``index`` (``batch_size`` of them)."""
        if self.windows == 0:
            raise ValueError(f"{self.source}: the validation split ({self.hi - self.lo} tokens) is shorter than one "
                             f"window of {self.block_size + 1}")
        picks = self.order[(index * batch_size + np.arange(batch_size)) % self.windows]
        return self.lo + picks * self.block_size

    def share(self, windows: int) -> str:
        """What an estimate on the first ``windows`` windows of the order covers, e.g. ``160 of 301 windows (53.2%)``."""
        if windows >= self.windows:
            return f"all {self.windows:,} windows" + (f" ({windows - self.windows:,} scored twice)" if windows > self.windows else "")
        return f"{windows:,} of {self.windows:,} windows ({100 * windows / max(self.windows, 1):.1f}%)"

    def describe(self) -> str:
        """One line: the split, its windows and the tokens the whole protocol scores."""
        return (f"validation split of {self.source} (tokens {self.lo:,} to {self.hi:,}): {self.windows:,} windows of "
                f"{self.block_size} tokens, {self.tokens:,} targets in all")

    def to_json(self) -> dict[str, Any]:
        """What ``heldout.json`` holds: the fields, W, the targets and the description."""
        return {**asdict(self), "windows": self.windows, "tokens": self.tokens, "describe": self.describe()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "HeldOut":
        """Read back :meth:`to_json`."""
        return cls(data["source"], int(data["lo"]), int(data["hi"]), int(data["block_size"]))
