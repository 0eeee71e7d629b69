"""``system.node_classifier``: ``GCNModel``, node features over a graph → node logits."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


class GCNModel(nn.Module):
    """x (N, d_in), edge_index (2, E) → topology (GraphConvLayers see the edges) → (N, n_classes)."""

    def __init__(self, topology: nn.Module, d_in: int, n_classes: int) -> None:
        super().__init__()
        self.topology, self.d_in, self.n_classes = topology, d_in, n_classes

    def example_inputs(self, batch_size: int, seq_len: int) -> tuple[Tensor, ...]:
        """A ring graph of ``batch_size`` nodes for the dry run."""
        nodes = torch.arange(batch_size)
        return torch.zeros(batch_size, self.d_in), torch.stack([nodes, nodes.roll(1)])

    def forward(self, x: Tensor, edge_index: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(N, d_in), (2, E) → (N, n_classes)."""
        ctx = ctx or ForwardContext()
        ctx.edge_index = edge_index
        return self.topology(x, ctx)


def build_node_classifier(model: nn.Module) -> nn.Module:
    """A node-classifier system is its network."""
    return model
