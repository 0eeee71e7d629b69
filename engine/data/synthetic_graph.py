"""``dataset.synthetic_graph``: node classification on a stochastic block model.

From the seed: node labels (balanced communities), undirected edges with probability
``p_in`` inside a community and ``p_out`` across (homophily: neighbours share labels),
features = class mean (N(0, I) per class) + noise·N(0, I), and a random train/val split
of the nodes. Every batch is the whole graph (transductive node classification, as in
Kipf & Welling, 2017): ``inputs`` (N, F), ``edge_index`` (2, E), ``targets`` (N,) and
``mask`` (N,) marking the split's nodes; ``batch_size`` and ``index`` do not change it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from caramba.engine.data.base import Split


class SyntheticGraph:
    """A seeded SBM graph with a node split (module docstring)."""

    def __init__(self, n_nodes: int = 200, n_features: int = 16, n_classes: int = 4, p_in: float = 0.1, p_out: float = 0.01,
                 noise: float = 1.0, *, seed: int, val_frac: float, base_dir: Path | None = None) -> None:
        rng = np.random.default_rng((seed, 13))
        labels = rng.permutation(np.arange(n_nodes) % n_classes)
        same = labels[:, None] == labels[None, :]
        upper = np.triu(rng.random((n_nodes, n_nodes)) < np.where(same, p_in, p_out), k=1)
        src, dst = np.nonzero(upper | upper.T)
        means = rng.normal(size=(n_classes, n_features))
        features = means[labels] + noise * rng.normal(size=(n_nodes, n_features))
        n_val = max(1, int(n_nodes * val_frac)) if val_frac > 0 else 0
        val = np.zeros(n_nodes, dtype=bool)
        val[rng.permutation(n_nodes)[:n_val]] = True
        self.tensors = {"inputs": torch.tensor(features, dtype=torch.float32),
                        "edge_index": torch.tensor(np.stack([src, dst]), dtype=torch.long),
                        "targets": torch.tensor(labels, dtype=torch.long)}
        self.masks = {"train": torch.from_numpy(~val), "val": torch.from_numpy(val)}

    def split_size(self, split: Split) -> int:
        """Nodes in ``split``."""
        return int(self.masks[split].sum())

    def batch(self, split: Split, index: int, batch_size: int) -> dict[str, Tensor]:
        """The whole graph plus the split's node ``mask``."""
        if self.split_size(split) == 0:
            raise ValueError(f"dataset.synthetic_graph: the {split} split has no nodes; set defaults.data.val_frac > 0")
        return {**self.tensors, "mask": self.masks[split]}
