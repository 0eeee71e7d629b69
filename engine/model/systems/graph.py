"""``system.graph``: a ``GraphTopology`` over the tensors of a batch dict."""

from __future__ import annotations

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class GraphSystem(nn.Module):
    """forward(batch: dict of tensors, ctx) → the topology's output(s)."""

    def __init__(self, topology: nn.Module) -> None:
        super().__init__()
        self.topology = topology

    def forward(self, inputs: dict[str, Tensor] | Tensor, ctx: ForwardContext | None = None) -> Tensor | dict[str, Tensor]:
        """Feed the named inputs through the graph."""
        return self.topology(inputs, ctx)


def build_graph_system(topology: nn.Module) -> nn.Module:
    """Wrap the built GraphTopology."""
    return GraphSystem(topology)
