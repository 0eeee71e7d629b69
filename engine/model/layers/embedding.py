"""Embedders: token ids → hidden states."""

from __future__ import annotations

from torch import Tensor, nn


class TokenEmbedder(nn.Module):
    """A learned ``vocab_size × d_model`` lookup table."""

    def __init__(self, vocab_size: int, d_model: int) -> None:
        super().__init__()
        self.table = nn.Embedding(vocab_size, d_model)

    @property
    def weight(self) -> nn.Parameter:
        """The embedding table (shared with the head when embeddings are tied)."""
        return self.table.weight

    def forward(self, ids: Tensor) -> Tensor:
        """(B, T) int64 → (B, T, d_model)."""
        return self.table(ids)
