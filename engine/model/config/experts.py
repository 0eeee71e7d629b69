"""Configs of conditional-computation layers: the mixture of experts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import DimFlow, LayerConfig


class MoELayerConfig(LayerConfig):
    """``MoELayer``: a top-k routed mixture of gated-MLP experts (Shazeer et al., 2017;
    Fedus et al., 2021, "Switch Transformers"); shape-preserving.

    Each token goes to its ``top_k`` experts by router probability; with a
    ``capacity_factor`` an expert takes at most ⌈capacity_factor · tokens · top_k / n_experts⌉
    assignments (later tokens beyond it are dropped and counted in ``ctx.stats``). The
    Switch load-balancing loss n_experts · Σ_e f_e·P_e is appended to ``ctx.aux_losses``.
    """

    type: Literal["MoELayer"] = "MoELayer"
    d_model: int = Field(ge=1, description="input and output features")
    d_ff: int = Field(ge=1, description="hidden features of each expert")
    n_experts: int = Field(ge=2, description="number of experts")
    top_k: int = Field(default=2, ge=1, description="experts per token")
    capacity_factor: float | None = Field(default=None, gt=0, description="expert capacity multiplier (null: no dropping)")
    expert: Literal["swiglu", "mlp"] = Field(default="swiglu", description="expert network: SwiGLU or GELU MLP")
    normalize_top_k: bool = Field(default=True, description="renormalise the chosen experts' probabilities to sum to 1")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``, ``top_k`` at most ``n_experts``; shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        if self.top_k > self.n_experts:
            flow.error(f"{path}.top_k", f"top_k={self.top_k} exceeds n_experts={self.n_experts}", f"use top_k ≤ {self.n_experts}")
        return self.d_model
