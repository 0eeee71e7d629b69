"""``ForwardContext``: what travels alongside the hidden states through a forward pass.

Every layer and topology has the signature ``forward(x, ctx=None)``. Topologies hand
``ctx`` to their children unchanged; leaf layers use what concerns them:

* attention layers read ``start_pos`` (RoPE position of ``x[:, 0]``; a one-element device
  tensor in a static decode step, so a captured step replays at every position) and, when decoding,
  keep their keys/values in ``ctx.cache`` (one slot per attention layer, see
  ``engine/infer``);
* layers with auxiliary losses (MoE load balancing) append them to ``aux_losses``; the
  objective adds them to the loss;
* ``stats`` collects scalar diagnostics (e.g. MoE dropped-token counts);
* ``state`` (a dict, or None) lets recurrent layers (SSM) carry their state across calls,
  keyed by ``id(layer)``: ``RecurrentTopology`` provides one per sequence;
* ``rope_tables`` (a ``RopeTables``, or None): the RoPE cos/sin tables of this pass's
  positions, built by the first attention layer and reused by the others with the same
  RoPE settings; the static decoder gives each pass one (its steps pick their row of
  tables built once for the whole generation), so a captured step builds none;
* ``edge_index`` (2, E) holds the graph of graph layers (source → target node ids);
* ``head`` names the head module whose projection an objective fuses with its loss
  (``kernels.linear_cross_entropy``): that layer stores its input in ``features`` and
  returns it unprojected, so the (tokens × vocab) logits are never made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor


@dataclass
class ForwardContext:
    """Side inputs and outputs of one forward pass (see the module docstring)."""

    start_pos: int | Tensor = 0
    cache: Any = None
    aux_losses: list[Tensor] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    state: dict[int, Any] | None = None
    rope_tables: Any = None  # a RopeTables (engine/model/layers/rope_tables.py) or None
    edge_index: Tensor | None = None
    head: Any = None
    features: Tensor | None = None

    def aux_loss(self) -> Tensor | None:
        """Sum of the auxiliary losses layers reported (None when there are none)."""
        if not self.aux_losses:
            return None
        total = self.aux_losses[0]
        for loss in self.aux_losses[1:]:
            total = total + loss
        return total
