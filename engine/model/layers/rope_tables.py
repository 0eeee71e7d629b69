"""``RopeTables``: the RoPE cos/sin tables of one forward pass, built once for every layer.

Each attention layer rotates by the same positions' angles; without sharing, every layer of
a decode step rebuilds them (arange, casts, add, outer, cos, sin: 7 kernels a layer). A pass
given a ``RopeTables`` (``ForwardContext.rope_tables``) builds them once for all layers
whose ``Rope`` has the same settings (head_dim, base, scaling) and ``inv_freq`` dtype.

With a ``capacity`` (the static decoder's steps) the tables of every position 0 …
capacity−1 are built once for the whole generation, stacked as (2, capacity, head_dim/2),
and kept in ``kept``; a step then picks its position's row with one ``index_select`` on
the device position (so a captured step replays at every position). Same values as
building them per step: the same ops on the same positions (integers, exact in float32).
A capture never keeps the whole tables it builds (their memory is written only on replay).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from caramba.kernels.rope import tables

if TYPE_CHECKING:
    from caramba.engine.model.layers.rope import Rope


class RopeTables:
    """One pass's shared tables (module docstring); ``kept`` outlives the pass (one per generation)."""

    def __init__(self, capacity: int | None = None, kept: dict[tuple[Any, ...], Tensor] | None = None) -> None:
        self.capacity = capacity
        self.kept: dict[tuple[Any, ...], Tensor] = kept if kept is not None else {}
        self.built: dict[tuple[Any, ...], tuple[Tensor, Tensor]] = {}
        self.start: int | Tensor | None = None

    def get(self, rope: Rope, start: int | Tensor, length: int, device: torch.device) -> tuple[Tensor, Tensor]:
        """cos, sin (length, head_dim/2) for positions start … start+length−1, built once a pass."""
        if self.start is None:
            self.start = start
        elif not (self.start is start or (isinstance(start, int) and self.start == start)):
            raise ValueError("one forward pass's RopeTables serve one start position; give each pass its own "
                             "ForwardContext(rope_tables=RopeTables(...))")
        key = (rope.settings, rope.inv_freq.dtype, length, device)
        if key not in self.built:
            if self.capacity is not None and isinstance(start, Tensor) and length == 1:
                picked = self._whole(rope, device).index_select(1, start)   # (2, 1, head_dim/2)
                self.built[key] = (picked[0], picked[1])
            else:
                self.built[key] = tables(rope.inv_freq, start, length, device)
        return self.built[key]

    def _whole(self, rope: Rope, device: torch.device) -> Tensor:
        """cos and sin of positions 0 … capacity−1 stacked (2, capacity, head_dim/2), kept across passes."""
        assert self.capacity is not None
        key = (rope.settings, rope.inv_freq.dtype, device)
        whole = self.kept.get(key)
        if whole is None:
            whole = torch.stack(tables(rope.inv_freq, 0, self.capacity, device))
            if not (whole.is_cuda and torch.cuda.is_current_stream_capturing()):
                self.kept[key] = whole
        return whole
