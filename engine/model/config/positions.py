"""Configs of position layers: RoPE as its own op, learned and sinusoidal position embeddings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import DimFlow, LayerConfig
from caramba.engine.model.config.layers import RopeScalingConfig


class RopeLayerConfig(LayerConfig):
    """``RopeLayer``: rotate each of ``n_heads`` head slices of x by its position (Su et al., 2021).

    Shape-preserving; positions start at ``ctx.start_pos``. Attention layers apply the same
    op internally to queries and keys; this layer exposes it for custom graphs.
    """

    type: Literal["RopeLayer"] = "RopeLayer"
    d_model: int = Field(ge=1, description="features (n_heads × head_dim)")
    n_heads: int = Field(default=1, ge=1, description="head slices rotated independently")
    base: float = Field(default=10000.0, gt=0, description="RoPE base θ")
    scaling: RopeScalingConfig | None = Field(default=None, description="linear or llama3 frequency scaling")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``, split over ``n_heads`` into even head widths; shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        if self.d_model % self.n_heads:
            flow.error(f"{path}.n_heads", f"n_heads={self.n_heads} does not divide d_model={self.d_model}", "pick a divisor of d_model")
        elif (self.d_model // self.n_heads) % 2:
            flow.error(f"{path}.n_heads", f"RoPE needs an even head dimension, got {self.d_model // self.n_heads}",
                       "pick n_heads so that d_model/n_heads is even")
        return self.d_model


class PositionalEmbeddingLayerConfig(LayerConfig):
    """``PositionalEmbeddingLayer``: x + P[start_pos + t], P learned (GPT-2) or sinusoidal
    (Vaswani et al., 2017: P[p, 2i] = sin(p/10000^(2i/d)), P[p, 2i+1] = cos(…))."""

    type: Literal["PositionalEmbeddingLayer"] = "PositionalEmbeddingLayer"
    d_model: int = Field(ge=1, description="features")
    max_seq_len: int = Field(ge=1, description="largest position + 1")
    kind: Literal["learned", "sinusoidal"] = Field(default="learned", description="table kind")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model`` (even for sinusoidal positions); shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        if self.kind == "sinusoidal" and self.d_model % 2:
            flow.error(f"{path}.d_model", "sinusoidal positions need an even d_model", "use an even d_model or kind: learned")
        return self.d_model
