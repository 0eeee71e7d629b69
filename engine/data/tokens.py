"""``dataset.tokens``: a flat file of token ids read through ``numpy.memmap``.

The file is never materialised: a batch gathers ``batch_size`` windows of
``block_size + 1`` tokens straight from the mapped pages. The validation split is the
*tail* ``val_frac`` of the file, the training split everything before it, so growing a
corpus by appending never moves a training token into validation.

Training batches are a pure function of ``(seed, split, index)`` (see
``engine/data/base.py``): window starts come from a NumPy generator seeded with that
triple, so batch ``index`` is the same on a fresh run and on a resumed one. Validation
batches are the evaluation protocol's windows (``engine/data/heldout.py``): the same for
every seed, so every run of a comparison is scored on the same held-out tokens.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from caramba.engine.data.base import Split
from caramba.engine.data.examples import example_rng
from caramba.engine.data.heldout import HeldOut

BIN_DTYPES = ("uint16", "uint32", "int32", "int64")


class DataFileMissing(FileNotFoundError):
    """A manifest names a token file that does not exist; the message says how to make one."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"token file {str(path)!r} does not exist; create it from local text with "
            f"`caramba data prepare TEXT --out {path.name}` (TEXT: a .txt/.md file or a folder of them), "
            "or point data.config.path at an existing .npy/.bin token file")
        self.path = path


def open_tokens(path: Path, dtype: str | None) -> np.ndarray:
    """Map ``path`` read-only: ``.npy`` carries its dtype, ``.bin`` needs ``dtype`` (default uint16)."""
    if not path.is_file():
        raise DataFileMissing(path)
    if path.suffix == ".npy":
        tokens = np.load(path, mmap_mode="r")
        if tokens.ndim != 1:
            raise ValueError(f"{path}: expected a 1-D array of token ids, got shape {tokens.shape}; flatten it before saving")
        return tokens
    if dtype is not None and dtype not in BIN_DTYPES:
        raise ValueError(f"{path}: dtype {dtype!r} is not one of {', '.join(BIN_DTYPES)}")
    return np.memmap(path, dtype=dtype or "uint16", mode="r")


class TokenDataset:
    """Random windows of a token file; ``inputs`` are tokens ``t..t+T-1``, ``targets`` ``t+1..t+T``."""

    def __init__(self, path: str, block_size: int, dtype: str | None = None, *, seed: int, val_frac: float,
                 base_dir: Path) -> None:
        resolved = Path(path) if Path(path).is_absolute() else Path(base_dir) / path
        self.path = resolved
        self.tokens = open_tokens(resolved, dtype)
        self.block_size, self.seed = block_size, seed
        n = int(self.tokens.shape[0])
        n_val = int(n * val_frac)
        self.bounds: dict[str, tuple[int, int]] = {"train": (0, n - n_val), "val": (n - n_val, n)}
        self.heldout = HeldOut(str(path), n - n_val, n, block_size)  # the evaluation protocol (engine/data/heldout.py)
        if self.split_size("train") == 0:
            raise ValueError(f"{resolved}: {n - n_val} training tokens cannot fill one window of {block_size + 1}; "
                             "use a larger file, a smaller block_size or a smaller defaults.data.val_frac")

    def split_size(self, split: Split) -> int:
        """Distinct windows (start positions) in ``split``; 0 when it is shorter than a window."""
        lo, hi = self.bounds[split]
        return max(0, hi - lo - self.block_size)

    def batch(self, split: Split, index: int, batch_size: int) -> dict[str, Tensor]:
        """Batch ``index`` of ``split``: ``inputs``/``targets`` int64 tensors of shape (B, T)."""
        size = self.split_size(split)
        if size == 0:
            raise ValueError(f"{self.path}: the {split} split is shorter than one window of {self.block_size + 1} tokens")
        lo, _ = self.bounds[split]
        if split == "val":  # the protocol's windows, the same for every seed: engine/data/heldout.py
            starts = self.heldout.starts(index, batch_size)
        else:
            starts = lo + example_rng(self.seed, split, index).integers(0, size, size=batch_size)
        offsets = np.arange(self.block_size + 1)
        windows = torch.from_numpy(self.tokens[starts[:, None] + offsets].astype(np.int64))  # (B, T+1)
        return {"inputs": windows[:, :-1], "targets": windows[:, 1:]}

    def vocab_bound(self) -> int:
        """One more than the largest id in the first million tokens (a cheap vocabulary check)."""
        head = self.tokens[: 1_000_000]
        return int(head.max()) + 1 if head.size else 0
