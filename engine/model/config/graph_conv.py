"""Configs of graph layers (node features over ``ctx.edge_index``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import DimFlow, LayerConfig


class GraphConvLayerConfig(LayerConfig):
    """``GraphConvLayer``: message passing over the graph in ``ctx.edge_index``.

    * ``gcn`` (Kipf & Welling, 2017): H' = D̂^(-1/2) (A + I) D̂^(-1/2) H W + b;
    * ``gat`` (Veličković et al., 2018): h'_i = ‖_heads Σ_j α_ij W h_j, with
      α_ij = softmax_j LeakyReLU(aᵀ[W h_i ‖ W h_j]) over j ∈ N(i) ∪ {i}.
    """

    type: Literal["GraphConvLayer"] = "GraphConvLayer"
    d_in: int = Field(ge=1, description="input node features")
    d_out: int = Field(ge=1, description="output node features (all heads together for gat)")
    mode: Literal["gcn", "gat"] = Field(default="gcn", description="convolution kind")
    n_heads: int = Field(default=1, ge=1, description="attention heads (gat)")
    negative_slope: float = Field(default=0.2, ge=0.0, description="LeakyReLU slope of gat scores")
    bias: bool = Field(default=True, description="learned bias")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_in``; gcn has one head, gat's ``d_out`` splits over its heads; output ``d_out``."""
        flow.expect(path, "d_in", self.d_in, d_in)
        if self.mode == "gcn" and self.n_heads != 1:
            flow.error(f"{path}.n_heads", "gcn has no heads", "remove n_heads, or set mode: gat")
        if self.d_out % self.n_heads:
            flow.error(f"{path}.d_out", f"d_out={self.d_out} is not divisible by n_heads={self.n_heads}",
                       f"use a multiple of {self.n_heads}")
        return self.d_out
