"""``system.classifier``: MLP classifier (vectors) and ViT (images) → class logits."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.embedding import PatchEmbedder


class MLPClassifier(nn.Module):
    """x (B, d_in) → topology → logits (B, n_classes)."""

    def __init__(self, topology: nn.Module, d_in: int, n_classes: int) -> None:
        super().__init__()
        self.topology, self.d_in, self.n_classes = topology, d_in, n_classes

    def example_inputs(self, batch_size: int, seq_len: int) -> tuple[Tensor, ...]:
        """A batch of feature vectors for the dry run (``seq_len`` unused)."""
        return (torch.zeros(batch_size, self.d_in),)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, d_in) → (B, n_classes)."""
        return self.topology(x, ctx)


class ViTModel(nn.Module):
    """Vision transformer: patch tokens → encoder → pooled token → linear head.

    Encoder attention should be non-causal (``causal: false``) and usually ``rope: false``
    (the patch embedder adds learned positions).
    """

    def __init__(self, embedder: dict[str, Any], topology: nn.Module, n_classes: int, pool: str = "cls") -> None:
        super().__init__()
        self.embedder = PatchEmbedder(**embedder)
        self.topology = topology
        self.head = nn.Linear(embedder["d_model"], n_classes)
        self.pool, self.image_shape = pool, (embedder.get("channels", 3), embedder["image_size"], embedder["image_size"])

    def example_inputs(self, batch_size: int, seq_len: int) -> tuple[Tensor, ...]:
        """A batch of images for the dry run (``seq_len`` unused)."""
        return (torch.zeros(batch_size, *self.image_shape),)

    def forward(self, images: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, C, H, W) → (B, n_classes)."""
        h = self.topology(self.embedder(images, ctx), ctx)  # (B, N, d_model)
        pooled = h[:, 0] if self.pool == "cls" else h.mean(dim=1)
        return self.head(pooled)


def build_classifier(model: nn.Module) -> nn.Module:
    """A classifier system is its network: ``forward(inputs, ctx) → logits``."""
    return model
