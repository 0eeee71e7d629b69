"""Absolute position embeddings: learned (GPT-2) or sinusoidal (Vaswani et al., 2017).

Sinusoidal: P[p, 2i] = sin(p / 10000^(2i/d)), P[p, 2i+1] = cos(p / 10000^(2i/d)).
The layer adds P[start_pos … start_pos+T−1] to x (B, T, d_model).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


def sinusoidal_table(length: int, d_model: int) -> Tensor:
    """(length, d_model) sinusoidal position table (float32)."""
    positions = torch.arange(length, dtype=torch.float64)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    table = torch.zeros(length, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(positions * freq)
    table[:, 1::2] = torch.cos(positions * freq)
    return table.float()


class PositionalEmbeddingLayer(nn.Module):
    """x + P[start_pos + t]; ``kind`` learned (a trained table) or sinusoidal (fixed buffer)."""

    def __init__(self, d_model: int, max_seq_len: int, kind: str = "learned") -> None:
        super().__init__()
        self.kind, self.max_seq_len = kind, max_seq_len
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(max_seq_len, d_model) * 0.02)
        elif kind == "sinusoidal":
            self.register_buffer("table", sinusoidal_table(max_seq_len, d_model), persistent=False)
        else:
            raise ValueError(f"unknown positional embedding kind {kind!r}; use learned or sinusoidal")

    def embedding_parameters(self) -> list[nn.Parameter]:
        """The learned table is an embedding (drawn like one, exempt from weight decay)."""
        return [self.table] if isinstance(self.table, nn.Parameter) else []

    def positions(self, start: int | Tensor, length: int) -> Tensor:
        """P[start … start+length−1] of shape (length, d_model).

        ``start`` may be a one-element device tensor (a captured decode step); its range is then
        checked by the static decoder against ``max_seq_len`` when it allocates its cache.
        """
        if isinstance(start, Tensor):
            return self.table.index_select(0, start + torch.arange(length, device=start.device))
        if start + length > self.max_seq_len:
            raise ValueError(f"positions up to {start + length - 1} requested but max_seq_len={self.max_seq_len}; "
                             "raise max_seq_len in the manifest or use shorter sequences")
        return self.table[start:start + length]

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T, d_model) → (B, T, d_model)."""
        start = ctx.start_pos if ctx is not None else 0
        return x + self.positions(start, x.shape[1]).to(x.dtype)
