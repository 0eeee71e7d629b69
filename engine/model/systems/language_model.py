"""``system.language_model``: the system wrapper of a token → logits network."""

from __future__ import annotations

from torch import nn


def build_language_model(model: nn.Module) -> nn.Module:
    """A language-model system is its network: ``forward(ids, ctx) → logits``."""
    return model
