"""Configs of the core leaf layers: linear, norms, gated MLPs and attention.

Each config validates its own fields (ranges, divisibility) through ``infer`` so that the
compiler reports every problem with its field path before anything is built.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import DimFlow, LayerConfig, StrictModel


class LinearLayerConfig(LayerConfig):
    """``LinearLayer``: y = x Wᵀ + b, from ``d_in`` to ``d_out`` features."""

    type: Literal["LinearLayer"] = "LinearLayer"
    d_in: int = Field(ge=1, description="input features")
    d_out: int = Field(ge=1, description="output features")
    bias: bool = Field(default=False, description="add a learned bias")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_in``; output ``d_out``."""
        flow.expect(path, "d_in", self.d_in, d_in)
        return self.d_out


class RMSNormLayerConfig(LayerConfig):
    """``RMSNormLayer``: x / rms(x) · g (Zhang & Sennrich, 2019); shape-preserving."""

    type: Literal["RMSNormLayer"] = "RMSNormLayer"
    d_model: int = Field(ge=1, description="normalised feature dimension")
    eps: float = Field(default=1e-6, gt=0, description="added to the mean square")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``; shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        return self.d_model


class SwiGLULayerConfig(LayerConfig):
    """``SwiGLULayer``: W_down(silu(W_gate x) ⊙ W_up x) (Shazeer, 2020); shape-preserving."""

    type: Literal["SwiGLULayer"] = "SwiGLULayer"
    d_model: int = Field(ge=1, description="input and output features")
    d_ff: int = Field(ge=1, description="hidden features of the gated MLP")
    bias: bool = Field(default=False, description="biases on the three projections")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``; shape-preserving."""
        flow.expect(path, "d_model", self.d_model, d_in)
        return self.d_model


class RopeScalingConfig(StrictModel):
    """RoPE frequency scaling for long contexts: ``linear`` (position interpolation) or
    ``llama3`` (the wavelength-dependent scaling of Llama 3.1)."""

    type: Literal["linear", "llama3"] = Field(description="scaling rule")
    factor: float = Field(gt=0, description="context extension factor")
    low_freq_factor: float = Field(default=1.0, gt=0, description="llama3 only")
    high_freq_factor: float = Field(default=4.0, gt=0, description="llama3 only")
    original_max_position_embeddings: int = Field(default=8192, ge=1, description="llama3 only")


class AttentionLayerConfig(LayerConfig):
    """``AttentionLayer``: causal self-attention in three modes.

    * ``standard``: multi-head attention (``n_kv_heads`` must equal ``n_heads`` or be unset);
    * ``gqa``: grouped-query attention, ``n_kv_heads`` key/value heads shared by groups of
      query heads (Ainslie et al., 2023);
    * ``decoupled``: DBA, Decoupled Bottleneck Attention: queries/keys split into a
      semantic path (``sem_dim``, no RoPE) and a geometric path (``geo_dim``, RoPE), with
      one value path (``v_dim``, default ``d_model``); score = q_sem·k_sem/√d_sem_head +
      q_geo·k_geo/√d_geo_head. ``n_kv_heads`` shares all three paths GQA-style.
    """

    type: Literal["AttentionLayer"] = "AttentionLayer"
    d_model: int = Field(ge=1, description="model width (input and output features)")
    n_heads: int = Field(ge=1, description="query heads")
    n_kv_heads: int | None = Field(default=None, ge=1, description="key/value heads (gqa, decoupled)")
    mode: Literal["standard", "gqa", "decoupled"] = Field(default="standard", description="attention variant")
    rope: bool = Field(default=True, description="rotary position embedding on queries/keys (geo path in DBA)")
    rope_base: float = Field(default=10000.0, gt=0, description="RoPE base θ")
    rope_scaling: RopeScalingConfig | None = Field(default=None, description="long-context RoPE scaling")
    causal: bool = Field(default=True, description="causal mask")
    bias: bool = Field(default=False, description="biases on q/k/v/o projections")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="attention dropout (training only)")
    sem_dim: int | None = Field(default=None, ge=1, description="DBA semantic q/k width (all heads)")
    geo_dim: int | None = Field(default=None, ge=1, description="DBA geometric q/k width (all heads)")
    v_dim: int | None = Field(default=None, ge=1, description="DBA value width (default d_model)")
    tie_qk: bool = Field(default=False, description="DBA: share the q and k projections of each path")
    null_attn: bool = Field(default=False, description="DBA: a learned null key/value every query may attend to")
    gate: bool = Field(default=False, description="DBA: per-head sigmoid output gate (identity at init)")

    @property
    def kv_heads(self) -> int:
        """Key/value heads actually used (``n_heads`` when unset)."""
        return self.n_kv_heads or self.n_heads

    @property
    def head_dim(self) -> int:
        """Per-head width of standard/GQA attention."""
        return self.d_model // self.n_heads

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Input width ``d_model``; shape-preserving.

        Key/value heads divide the query heads, heads divide the width (RoPE: into even
        head widths), and the DBA fields are set only with mode decoupled.
        """
        flow.expect(path, "d_model", self.d_model, d_in)
        if self.mode == "standard" and self.n_kv_heads not in (None, self.n_heads):
            flow.error(f"{path}.n_kv_heads", f"mode standard uses n_kv_heads = n_heads = {self.n_heads}, got {self.n_kv_heads}",
                       "set mode: gqa to share key/value heads, or remove n_kv_heads")
        if self.n_heads and self.kv_heads and self.n_heads % self.kv_heads:
            flow.error(f"{path}.n_kv_heads", f"n_kv_heads={self.kv_heads} does not divide n_heads={self.n_heads}",
                       f"choose n_kv_heads among {_divisors(self.n_heads)}")
        if self.mode == "decoupled":
            self._infer_decoupled(flow, path)
        else:
            for name in ("sem_dim", "geo_dim", "v_dim", "tie_qk", "null_attn", "gate"):
                if getattr(self, name) not in (None, False):
                    flow.error(f"{path}.{name}", f"{name} is only used by mode decoupled (DBA)",
                               f"remove {name}, or set mode: decoupled")
            if self.d_model % self.n_heads:
                flow.error(f"{path}.n_heads", f"n_heads={self.n_heads} does not divide d_model={self.d_model}",
                           f"choose n_heads among {_divisors(self.d_model)}")
            elif self.rope and self.head_dim % 2:
                flow.error(f"{path}.n_heads", f"RoPE needs an even head dimension, d_model/n_heads = {self.head_dim}",
                           "pick n_heads so that d_model/n_heads is even, or set rope: false")
        return self.d_model

    def _infer_decoupled(self, flow: DimFlow, path: str) -> None:
        for name in ("sem_dim", "geo_dim"):
            if getattr(self, name) is None:
                flow.error(f"{path}.{name}", f"mode decoupled needs {name}", f"add {name}: (a multiple of n_heads={self.n_heads})")
        for name in ("sem_dim", "geo_dim", "v_dim"):
            value = getattr(self, name)
            if value is not None and value % self.n_heads:
                flow.error(f"{path}.{name}", f"{name}={value} is not divisible by n_heads={self.n_heads}",
                           f"use a multiple of {self.n_heads}")
        if self.geo_dim and self.geo_dim % self.n_heads == 0 and (self.geo_dim // self.n_heads) % 2:
            flow.error(f"{path}.geo_dim", f"RoPE needs an even geometric head dimension, geo_dim/n_heads = {self.geo_dim // self.n_heads}",
                       f"use a multiple of {2 * self.n_heads}")
        if self.tie_qk and self.kv_heads != self.n_heads:
            flow.error(f"{path}.tie_qk", f"tie_qk reuses the query projections as keys, so it needs n_kv_heads = n_heads = {self.n_heads}",
                       "remove n_kv_heads, or set tie_qk: false")
        if self.v_dim is None and self.d_model % self.n_heads:
            flow.error(f"{path}.n_heads", f"n_heads={self.n_heads} does not divide d_model={self.d_model} (the default v_dim)",
                       "set v_dim to a multiple of n_heads")

    def kv_values_per_token(self) -> int:
        """Cached values per token: 2·n_kv·head_dim, or (sem+geo+v)·n_kv/n_heads for DBA."""
        if self.mode == "decoupled":
            total = (self.sem_dim or 0) + (self.geo_dim or 0) + (self.v_dim or self.d_model)
            return total * self.kv_heads // self.n_heads
        return 2 * self.kv_heads * self.head_dim


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]
