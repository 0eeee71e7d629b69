"""Configs of state-space layers: the Mamba selective SSM."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import DimFlow, LayerConfig


class SSMLayerConfig(LayerConfig):
    """``SSMLayer``: a Mamba block (Gu & Dao, 2023), shape-preserving.

    in_proj → (x, z); x → causal depthwise conv (``d_conv``) → SiLU → selective scan with
    input-dependent Δ, B, C over ``d_state`` states per channel; y · SiLU(z) → out_proj.
    The inner width is ``expand`` · d_model; Δ is initialised log-uniformly in
    [dt_min, dt_max].
    """

    type: Literal["SSMLayer"] = "SSMLayer"
    d_model: int = Field(ge=1, description="input and output features")
    d_state: int = Field(default=16, ge=1, description="SSM states per channel (N)")
    d_conv: int = Field(default=4, ge=1, description="causal depthwise convolution width")
    expand: int = Field(default=2, ge=1, description="inner width = expand · d_model")
    dt_rank: int | Literal["auto"] = Field(default="auto", description="rank of Δ's projection (auto: ⌈d_model/16⌉)")
    dt_min: float = Field(default=0.001, gt=0, description="smallest initial Δ")
    dt_max: float = Field(default=0.1, gt=0, description="largest initial Δ")
    dt_init_floor: float = Field(default=1e-4, gt=0, description="floor of the initial Δ")
    bias: bool = Field(default=False, description="biases on in/out projections")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``, ``dt_min`` at most ``dt_max``; shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        if self.dt_min > self.dt_max:
            flow.error(f"{path}.dt_min", f"dt_min={self.dt_min} exceeds dt_max={self.dt_max}", "make dt_min ≤ dt_max")
        return self.d_model

    def kv_values_per_token(self) -> int:
        """An SSM keeps a fixed-size state, not a per-token cache."""
        return 0
