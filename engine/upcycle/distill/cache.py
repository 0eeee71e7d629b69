"""``TeacherCache``: the teacher's block activations, computed once per batch, reused by every block.

In the blockwise phase block i trains on train batches 0, 1, 2 … (sampling is a pure
function of the batch index), and so does every later block: the teacher's activations of
batch k are the same for all of them. The cache runs the teacher once per batch (a full
pass collecting every block's output, or attention output), keeps the result on the
training device keyed by (split, batch index), and serves it to every block that needs it.

It is bounded: at most ``capacity`` batches, least recently used evicted first. One batch
costs ``blocks × batch_size × block_size × d_model × bytes`` (:func:`batch_bytes`); the dry
run prints ``capacity ×`` that as the cache's memory. ``hits`` / ``misses`` say how often
the teacher was spared.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from caramba.engine.upcycle.blocks import Blocks


def batch_bytes(blocks: int, batch_size: int, block_size: int, d_model: int, dtype_bytes: int) -> int:
    """Bytes the cache holds for one batch: one (B, T, d) activation per block."""
    return blocks * batch_size * block_size * d_model * dtype_bytes


class TeacherCache:
    """Bounded LRU of the teacher's per-block activations (see the module docstring)."""

    def __init__(self, teacher: nn.Module, target: str, capacity: int) -> None:
        self.blocks, self.target, self.capacity = Blocks(teacher), target, capacity
        self.entries: OrderedDict[tuple[int, int], list[Tensor]] = OrderedDict()
        self.hits = self.misses = 0

    @torch.no_grad()
    def get(self, key: tuple[int, int], ids: Tensor) -> list[Tensor]:
        """Every block's teacher activation for batch ``key`` = (split code, index) with inputs ``ids``."""
        if key in self.entries:
            self.hits += 1
            self.entries.move_to_end(key)
            return self.entries[key]
        self.misses += 1
        outs, atts = self.blocks.trace(ids)
        value = outs if self.target == "block" else atts
        self.entries[key] = value
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
        return value

    def nbytes(self) -> int:
        """Bytes held now."""
        return sum(t.numel() * t.element_size() for value in self.entries.values() for t in value)
