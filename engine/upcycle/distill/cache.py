"""``TeacherCache``: the teacher's block activations, computed once per batch, reused by every block.

In the blockwise phase block i trains on train batches 0, 1, 2 … (sampling is a pure
function of the batch index), and so does every later block: the teacher's activations of
batch k are the same for all of them. The cache runs the teacher once per batch (a full
pass collecting every block's output, or attention output), keeps the result on the
training device keyed by (split, batch index), and serves it to every block that needs it.

It is bounded: at most ``capacity`` batches, and it keeps the *first* ``capacity`` batches it
sees; a later batch is computed and not stored. Every block scans the same batches
0, 1, 2 … in order, a cyclic pattern on which least-recently-used eviction keeps nothing
useful once a block needs more batches than the capacity (measured: an H200 run with 100
batches per block and capacity 64 had 0 hits under LRU), while keeping a fixed set serves
``capacity`` batches of every later block. Each rank caches the rows it trains on; with a
sharded teacher (every forward a collective) the ranks agree on each lookup — one tiny
all-reduce (``agree``) — and run the teacher together whenever any of them misses. One batch costs
``blocks × batch_size × block_size × d_model × bytes`` (:func:`batch_bytes`); the dry run
prints ``capacity ×`` that as the cache's memory. ``hits`` / ``misses`` say how often the
teacher was spared.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from caramba.engine.upcycle.blocks import Blocks


def batch_bytes(blocks: int, batch_size: int, block_size: int, d_model: int, dtype_bytes: int) -> int:
    """Bytes the cache holds for one batch: one (B, T, d) activation per block."""
    return blocks * batch_size * block_size * d_model * dtype_bytes


class TeacherCache:
    """Bounded store of the teacher's per-block activations, first batches kept (see the module docstring)."""

    def __init__(self, teacher: nn.Module, target: str, capacity: int, agree: Callable[[bool], bool] | None = None) -> None:
        self.blocks, self.target, self.capacity = Blocks(teacher), target, capacity
        self.entries: dict[tuple[int, int], list[Tensor]] = {}
        self.hits = self.misses = 0
        self.agree = agree

    @torch.no_grad()
    def get(self, key: tuple[int, int], ids: Tensor) -> list[Tensor]:
        """Every block's teacher activation for batch ``key`` = (split code, index) with inputs ``ids``."""
        missing = key not in self.entries
        if self.agree is not None:  # a sharded teacher: when any rank must run it, every rank does
            missing = self.agree(missing)
        if not missing:
            self.hits += 1
            return self.entries[key]
        self.misses += 1
        outs, atts = self.blocks.trace(ids)
        value = outs if self.target == "block" else atts
        if key not in self.entries and len(self.entries) < self.capacity:
            self.entries[key] = value
        return value

    def nbytes(self) -> int:
        """Bytes held now."""
        return sum(t.numel() * t.element_size() for value in self.entries.values() for t in value)
