"""Configs of model systems' networks (``system.config.model``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from caramba.engine.model.config.base import BuildFn, DimFlow, LayerConfig, StrictModel
from caramba.engine.model.config.embedders import TokenEmbedderConfig

if TYPE_CHECKING:
    NodeConfig = LayerConfig


class TransformerModelConfig(StrictModel):
    """``TransformerModel``: token embedder → topology → logits over the vocabulary.

    The topology's last layer is the head; with ``tie_embeddings`` the head (a bias-free
    ``LinearLayer`` d_model → vocab_size) shares the embedding table.
    """

    type: Literal["TransformerModel"] = "TransformerModel"
    embedder: TokenEmbedderConfig = Field(description="token embedder")
    topology: "NodeConfig" = Field(description="the network between embeddings and logits")
    tie_embeddings: bool = Field(default=False, description="share the head's weight with the embedding table")

    def infer(self, flow: DimFlow, path: str) -> None:
        """Flow the embedder width through the topology; the output must be vocabulary logits."""
        self.embedder.infer(flow, f"{path}.embedder")
        d_out = self.topology.infer(flow, self.embedder.d_out, f"{path}.topology")
        vocab = self.embedder.vocab_size
        if d_out is not None and d_out != vocab:
            flow.error(f"{path}.topology", f"the model outputs {d_out} features per token, but the vocabulary has {vocab} tokens",
                       f"end the topology with a LinearLayer d_in: {self.embedder.d_model}, d_out: {vocab}")
        if self.tie_embeddings:
            head = _last_leaf(self.topology)
            if not (head is not None and head.type == "LinearLayer" and not getattr(head, "bias", True)):
                flow.error(f"{path}.tie_embeddings", "tied embeddings need a bias-free LinearLayer as the last layer",
                           "end the topology with LinearLayer (bias: false), or set tie_embeddings: false")

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The embedder's settings, the built topology and whether the head shares the embedding's weights."""
        return {"embedder": self.embedder.model_dump(), "topology": build(self.topology),
                "tie_embeddings": self.tie_embeddings}

    def kv_values_per_token(self) -> int:
        """Cached values per token across every attention layer of the model."""
        return self.topology.kv_values_per_token()


def _last_leaf(node: LayerConfig) -> LayerConfig | None:
    children = node.children()
    if not children:
        return node
    if getattr(node, "type", "") not in ("StackedTopology", "NestedTopology"):
        return None
    return _last_leaf(children[-1])
