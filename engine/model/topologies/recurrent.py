"""``RecurrentTopology``: run a block over the sequence chunk by chunk, carrying state.

The sequence (B, T, d) is cut into chunks of ``chunk_size`` tokens. Each chunk runs
through the stacked layers with a context whose ``start_pos`` is the chunk's offset,
whose ``cache`` accumulates every attention layer's keys/values of earlier chunks (a
:class:`ChunkCache`), and whose ``state`` carries SSM states. The output therefore equals
one pass over the whole sequence, while each attention call sees only chunk-sized queries
(Transformer-XL style recurrence, Dai et al., 2019). With ``detach`` the carried tensors
are cut from the graph (truncated back-propagation through time).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class ChunkCache:
    """Keeps each attention layer's keys/values across chunks (``update`` appends on time)."""

    def __init__(self, detach: bool = False) -> None:
        self.detach = detach
        self.slots: dict[int, dict[str, Tensor]] = {}

    def update(self, layer: nn.Module, new: dict[str, Tensor]) -> tuple[Tensor, ...]:
        """Append ``new`` tensors (B, H, T, ·) to the layer's slot; return the full tensors in order."""
        slot = self.slots.get(id(layer))
        full = {k: v if slot is None else torch.cat([slot[k], v], dim=-2) for k, v in new.items()}
        self.slots[id(layer)] = {k: v.detach() if self.detach else v for k, v in full.items()}
        return tuple(full.values())


class RecurrentTopology(nn.Module):
    """Stacked layers applied chunk by chunk with carried caches and states."""

    def __init__(self, layers: list[nn.Module], chunk_size: int, detach: bool = False) -> None:
        super().__init__()
        self.layers, self.chunk_size, self.detach = nn.ModuleList(layers), chunk_size, detach

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T, d) → (B, T, d_out)."""
        outer = ctx or ForwardContext()
        cache, state = ChunkCache(self.detach), {}  # type: ignore[var-annotated]
        outs = []
        for start in range(0, x.shape[1], self.chunk_size):
            inner = ForwardContext(start_pos=outer.start_pos + start, cache=cache, aux_losses=outer.aux_losses,
                                   stats=outer.stats, state=state, edge_index=outer.edge_index)
            h = x[:, start:start + self.chunk_size]
            for layer in self.layers:
                h = layer(h, inner)
            outs.append(h)
            if self.detach:
                state = {k: _detach(v) for k, v in state.items()}
        return torch.cat(outs, dim=1)


def _detach(value: Any) -> Any:
    return tuple(_detach(v) for v in value) if isinstance(value, tuple) else value.detach()
