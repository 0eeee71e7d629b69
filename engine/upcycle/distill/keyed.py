"""``KeyedDataset``: a dataset whose batches say which batch they are (for the teacher cache).

Each batch gains ``batch_key`` (B, 2) int64: (split code, batch index) repeated per row, so
an objective can look the batch's teacher activations up without knowing the step. Split
codes: train 0, val 1. Everything else is the wrapped dataset's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

SPLITS = {"train": 0, "val": 1}


class KeyedDataset:
    """Wraps a dataset (see the module docstring)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def batch(self, split: str, index: int, batch_size: int) -> dict[str, Tensor]:
        """The wrapped batch plus its ``batch_key``."""
        batch = dict(self.dataset.batch(split, index, batch_size))
        rows = next(iter(batch.values())).shape[0]
        batch["batch_key"] = torch.tensor([[SPLITS[split], index]], dtype=torch.long).expand(rows, 2).contiguous()
        return batch

    def split_size(self, split: str) -> int:
        """The wrapped dataset's split size."""
        return int(self.dataset.split_size(split))

    def __getattr__(self, name: str) -> Any:
        if name == "dataset":
            raise AttributeError(name)
        return getattr(self.dataset, name)
