"""Configs of the elementwise and feed-forward layers: activations, dropout, LayerNorm,
plain and gated MLPs (GEGLU, ReGLU), LoRA linears and the diffusion denoising head."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import DimFlow, LayerConfig
from caramba.engine.model.config.layers import SwiGLULayerConfig

Activation = Literal["relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid"]


class ActivationLayerConfig(LayerConfig):
    """``ActivationLayer``: an elementwise nonlinearity; shape-preserving."""

    type: Literal["ActivationLayer"] = "ActivationLayer"
    fn: Activation = Field(default="gelu", description="the nonlinearity (gelu_tanh: GPT-2's tanh approximation)")


class DropoutLayerConfig(LayerConfig):
    """``DropoutLayer``: zero each feature with probability ``p`` while training, scale by 1/(1−p)."""

    type: Literal["DropoutLayer"] = "DropoutLayer"
    p: float = Field(default=0.1, ge=0.0, lt=1.0, description="drop probability")


class LayerNormLayerConfig(LayerConfig):
    """``LayerNormLayer``: (x − mean)/√(var + eps)·g + b (Ba et al., 2016); shape-preserving."""

    type: Literal["LayerNormLayer"] = "LayerNormLayer"
    d_model: int = Field(ge=1, description="normalised feature dimension")
    eps: float = Field(default=1e-5, gt=0, description="added to the variance")
    bias: bool = Field(default=True, description="learned bias b")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``; shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        return self.d_model


class MLPLayerConfig(LayerConfig):
    """``MLPLayer``: W_down(act(W_up x)), the GPT-2 / ViT feed-forward; shape-preserving."""

    type: Literal["MLPLayer"] = "MLPLayer"
    d_model: int = Field(ge=1, description="input and output features")
    d_ff: int = Field(ge=1, description="hidden features")
    activation: Activation = Field(default="gelu", description="hidden nonlinearity")
    bias: bool = Field(default=True, description="biases on both projections")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``; shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        return self.d_model


class GEGLULayerConfig(SwiGLULayerConfig):
    """``GEGLULayer``: W_down(gelu(W_gate x) ⊙ W_up x) (Shazeer, 2020)."""

    type: Literal["GEGLULayer"] = "GEGLULayer"  # type: ignore[assignment]


class ReGLULayerConfig(SwiGLULayerConfig):
    """``ReGLULayer``: W_down(relu(W_gate x) ⊙ W_up x) (Shazeer, 2020)."""

    type: Literal["ReGLULayer"] = "ReGLULayer"  # type: ignore[assignment]


class LoRALinearLayerConfig(LayerConfig):
    """``LoRALinearLayer``: a frozen linear W plus a trainable low-rank update (Hu et al., 2021).

    y = x Wᵀ + b + (alpha/r)·B(A(dropout(x))), A: r × d_in (Kaiming), B: d_out × r (zeros),
    so training starts from the pretrained function; ``merge`` folds (alpha/r)·BA into W.
    """

    type: Literal["LoRALinearLayer"] = "LoRALinearLayer"
    d_in: int = Field(ge=1, description="input features")
    d_out: int = Field(ge=1, description="output features")
    r: int = Field(default=8, ge=1, description="rank of the update")
    alpha: float = Field(default=16.0, gt=0, description="scale numerator: the update is scaled by alpha/r")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="dropout on the adapter's input")
    bias: bool = Field(default=False, description="bias of the frozen linear")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_in``, rank ``r`` at most min(d_in, d_out); output ``d_out``."""
        flow.expect(path, "d_in", self.d_in, d_in)
        if self.r > min(self.d_in, self.d_out):
            flow.error(f"{path}.r", f"rank r={self.r} exceeds min(d_in, d_out) = {min(self.d_in, self.d_out)}",
                       f"use r ≤ {min(self.d_in, self.d_out)} (a low-rank update)")
        return self.d_out


class DenoisingHeadLayerConfig(LayerConfig):
    """``DenoisingHeadLayer``: LayerNorm → Linear to the data width, zero-initialised.

    The output layer of a diffusion denoiser (Peebles & Xie, 2023, "DiT", zero-init final
    layer): at init the predicted noise is 0, the loss starts at E[ε²] = 1.
    """

    type: Literal["DenoisingHeadLayer"] = "DenoisingHeadLayer"
    d_model: int = Field(ge=1, description="hidden features in")
    d_out: int = Field(ge=1, description="data features out (the predicted noise)")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``; output ``d_out`` (the predicted noise's width)."""
        flow.expect(path, "d_model", self.d_model, d_in)
        return self.d_out
