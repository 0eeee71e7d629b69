"""Embedders: raw inputs → hidden states.

* :class:`TokenEmbedder`: token ids (B, T) → (B, T, d_model) through a learned table, plus
  optional absolute positions (learned as in GPT-2, or sinusoidal);
* :class:`PatchEmbedder`: images (B, C, H, W) → (B, N(+1), d_model): non-overlapping
  patches projected by a strided convolution (equivalent to flatten + linear), a learned
  class token and learned positions (Dosovitskiy et al., 2021).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.positions import PositionalEmbeddingLayer


class TokenEmbedder(nn.Module):
    """A learned ``vocab_size × d_model`` lookup table (+ optional positions)."""

    def __init__(self, vocab_size: int, d_model: int, positions: str = "none", max_seq_len: int | None = None) -> None:
        super().__init__()
        self.table = nn.Embedding(vocab_size, d_model)
        self.positions = None
        if positions != "none":
            if max_seq_len is None:
                raise ValueError(f"positions: {positions} needs max_seq_len")
            self.positions = PositionalEmbeddingLayer(d_model, max_seq_len, positions)

    @property
    def weight(self) -> nn.Parameter:
        """The embedding table (shared with the head when embeddings are tied)."""
        return self.table.weight

    def forward(self, ids: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T) int64 → (B, T, d_model)."""
        x = self.table(ids)
        return x if self.positions is None else self.positions(x, ctx)


class PatchEmbedder(nn.Module):
    """Images → patch tokens with a class token and learned positions."""

    def __init__(self, image_size: int, patch_size: int, d_model: int, channels: int = 3, cls_token: bool = True) -> None:
        super().__init__()
        self.proj = nn.Conv2d(channels, d_model, kernel_size=patch_size, stride=patch_size)
        n = (image_size // patch_size) ** 2 + int(cls_token)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model)) if cls_token else None
        self.pos = nn.Parameter(torch.randn(1, n, d_model) * 0.02)

    def embedding_parameters(self) -> list[nn.Parameter]:
        """The class token and the position table are embeddings (no weight decay)."""
        return [self.pos] + ([self.cls] if self.cls is not None else [])

    def forward(self, images: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, C, H, W) → (B, N(+1), d_model)."""
        x = self.proj(images).flatten(2).transpose(1, 2)  # (B, N, d_model)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.pos
