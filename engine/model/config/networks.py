"""Configs of the non-language networks: MLP classifier, ViT, GCN node classifier and
diffusion denoiser, and the systems that hold them (``system.classifier``,
``system.node_classifier``, ``system.denoiser``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field

from caramba.engine.model.config.base import BuildFn, DimFlow, LayerConfig, StrictModel
from caramba.engine.model.config.embedders import PatchEmbedderConfig
from caramba.engine.model.config.init import SystemConfig

if TYPE_CHECKING:
    NodeConfig = LayerConfig


def _expect_out(flow: DimFlow, path: str, got: int | None, want: int, what: str, hint: str) -> None:
    if got is not None and got != want:
        flow.error(f"{path}.topology", f"the topology outputs {got} features, but {what} is {want}", hint)


class _Network(StrictModel):
    topology: "NodeConfig" = Field(description="the network body")

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        kwargs = self.model_dump(exclude={"type", "topology", "embedder"})
        kwargs["topology"] = build(self.topology)
        return kwargs

    def kv_values_per_token(self) -> int:
        """Cached values per token (these networks do not decode autoregressively)."""
        return 0


class MLPClassifierConfig(_Network):
    """``MLPClassifier``: feature vectors (B, d_in) → topology → class logits (B, n_classes)."""

    type: Literal["MLPClassifier"] = "MLPClassifier"
    d_in: int = Field(ge=1, description="input features")
    n_classes: int = Field(ge=2, description="classes")

    def infer(self, flow: DimFlow, path: str) -> None:
        """The topology maps ``d_in`` features to ``n_classes`` logits."""
        d_out = self.topology.infer(flow, self.d_in, f"{path}.topology")
        _expect_out(flow, path, d_out, self.n_classes, "n_classes", f"end the topology with a layer of {self.n_classes} outputs")


class ViTModelConfig(_Network):
    """``ViTModel``: patch embedder → transformer encoder (non-causal) → pooled token
    (``cls`` or ``mean``) → linear head to ``n_classes`` (Dosovitskiy et al., 2021)."""

    type: Literal["ViTModel"] = "ViTModel"
    embedder: PatchEmbedderConfig = Field(description="patch embedder")
    n_classes: int = Field(ge=2, description="classes")
    pool: Literal["cls", "mean"] = Field(default="cls", description="which token representation is classified")

    def infer(self, flow: DimFlow, path: str) -> None:
        """The embedder checks itself, the encoder preserves its width, and pool: cls has a class token."""
        self.embedder.infer(flow, f"{path}.embedder")
        d = self.embedder.d_model
        _expect_out(flow, path, self.topology.infer(flow, d, f"{path}.topology"), d, "d_model",
                    "the encoder must preserve the width; the head is added by ViTModel")
        if self.pool == "cls" and not self.embedder.cls_token:
            flow.error(f"{path}.pool", "pool: cls needs the embedder's class token", "set embedder.cls_token: true, or pool: mean")

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The network's arguments plus the patch embedder's settings."""
        kwargs = super().build_kwargs(build)
        kwargs["embedder"] = self.embedder.model_dump(exclude={"type"})
        return kwargs


class GCNModelConfig(_Network):
    """``GCNModel``: node features (N, d_in) over ``edge_index`` (2, E) → node logits (N, n_classes)."""

    type: Literal["GCNModel"] = "GCNModel"
    d_in: int = Field(ge=1, description="input node features")
    n_classes: int = Field(ge=2, description="node classes")

    def infer(self, flow: DimFlow, path: str) -> None:
        """The topology maps ``d_in`` node features to ``n_classes`` logits."""
        d_out = self.topology.infer(flow, self.d_in, f"{path}.topology")
        _expect_out(flow, path, d_out, self.n_classes, "n_classes", f"end with GraphConvLayer d_out: {self.n_classes}")


class DiffusionModelConfig(_Network):
    """``DiffusionModel``: an ε-prediction denoiser (Ho et al., 2020) over vectors.

    x_t (B, d_data) → Linear → + timestep embedding (sinusoidal → MLP) → topology →
    predicted noise (B, d_data); end the topology with a DenoisingHeadLayer.
    """

    type: Literal["DiffusionModel"] = "DiffusionModel"
    d_data: int = Field(ge=1, description="data features")
    d_model: int = Field(ge=2, description="hidden width (even: sinusoidal time features)")

    def infer(self, flow: DimFlow, path: str) -> None:
        """``d_model`` is even (sinusoidal timestep features) and the topology maps it back to ``d_data``."""
        if self.d_model % 2:
            flow.error(f"{path}.d_model", "d_model must be even (sinusoidal timestep features)", "use an even d_model")
        d_out = self.topology.infer(flow, self.d_model, f"{path}.topology")
        _expect_out(flow, path, d_out, self.d_data, "d_data", f"end with DenoisingHeadLayer d_out: {self.d_data}")


class _System(SystemConfig):
    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The system factory receives the built network."""
        return {"model": build(getattr(self, "model"))}


class ClassifierSystemConfig(_System):
    """``system.classifier``: inputs (vectors or images) → class logits."""

    model: Annotated[Union[MLPClassifierConfig, ViTModelConfig], Field(discriminator="type")] = Field(
        description="MLPClassifier or ViTModel")


class NodeClassifierSystemConfig(_System):
    """``system.node_classifier``: node features + edges → node logits."""

    model: GCNModelConfig = Field(description="the GCNModel")


class DenoiserSystemConfig(_System):
    """``system.denoiser``: (x_t, t) → predicted noise."""

    model: DiffusionModelConfig = Field(description="the DiffusionModel")
