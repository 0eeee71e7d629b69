"""The dataset contract shared by the trainer, the verifiers and the benchmarks.

Sampling is a pure function of ``(seed, split, index)``: batch ``index`` of a split is the
same whatever happened before, so resuming a run needs only the step number (the
sampler state *is* the step) and two runs with one seed see the same data.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from torch import Tensor

Split = Literal["train", "val"]


@runtime_checkable
class Dataset(Protocol):
    """What a registered dataset provides.

    Constructed by the engine as ``cls(**config_fields, seed=..., val_frac=..., base_dir=...)``
    where ``base_dir`` is the folder relative paths resolve against.
    """

    def batch(self, split: Split, index: int, batch_size: int) -> dict[str, Tensor]:
        """Batch number ``index`` of ``split``: a dict of CPU tensors (keys per task,
        e.g. ``inputs`` and ``targets`` for language modelling)."""
        ...

    def split_size(self, split: Split) -> int:
        """Number of examples (sequences, samples, nodes) available in ``split`` (0 if empty)."""
        ...
