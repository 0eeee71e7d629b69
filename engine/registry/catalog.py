"""Every registered manifest type, in one explicit list.

Importing this module fills :data:`REGISTRY` and builds the tagged unions that make the
manifest schema (``finalize``). Implementations are import-path strings, so nothing here
imports torch. To add a type: write its config (``engine/model/config``) and its module,
register it below, and it is validated, documented in ``caramba schema`` and buildable.
"""

from __future__ import annotations

from caramba.engine.model.config import components as comp
from caramba.engine.model.config import embedders, layers, models, topologies
from caramba.engine.registry.store import REGISTRY
from caramba.engine.registry.unions import finalize

M = "caramba.engine.model"

# ── layers ────────────────────────────────────────────────────────────────────────────
REGISTRY.register("layer", "LinearLayer", layers.LinearLayerConfig, f"{M}.layers.linear:LinearLayer", "affine projection d_in → d_out")
REGISTRY.register("layer", "RMSNormLayer", layers.RMSNormLayerConfig, f"{M}.layers.norm:RMSNormLayer", "root-mean-square normalisation")
REGISTRY.register("layer", "SwiGLULayer", layers.SwiGLULayerConfig, f"{M}.layers.glu:SwiGLULayer", "SiLU-gated MLP")
REGISTRY.register("layer", "AttentionLayer", layers.AttentionLayerConfig, f"{M}.layers.attention:attention_layer", "causal attention: standard, gqa, decoupled (DBA)")

# ── topologies ────────────────────────────────────────────────────────────────────────
REGISTRY.register("topology", "StackedTopology", topologies.StackedTopologyConfig, f"{M}.topologies.stacked:StackedTopology", "layers in sequence")
REGISTRY.register("topology", "ResidualTopology", topologies.ResidualTopologyConfig, f"{M}.topologies.residual:ResidualTopology", "x + f(x)")
REGISTRY.register("topology", "NestedTopology", topologies.NestedTopologyConfig, f"{M}.topologies.stacked:StackedTopology", "a block repeated with fresh weights")

# ── embedders and models ──────────────────────────────────────────────────────────────
REGISTRY.register("embedder", "token", embedders.TokenEmbedderConfig, f"{M}.layers.embedding:TokenEmbedder", "token-id lookup table")
REGISTRY.register("model", "TransformerModel", models.TransformerModelConfig, f"{M}.systems.transformer:TransformerModel", "embedder → topology → logits")

# ── components referenced by `ref` ────────────────────────────────────────────────────
REGISTRY.register("task", "task.language_modeling", comp.EmptyConfig, f"{M}.config.components:EmptyConfig", "next-token prediction")
REGISTRY.register("dataset", "dataset.tokens", comp.TokenDatasetConfig, "caramba.engine.data.tokens:TokenDataset", "memmapped token file")
REGISTRY.register("system", "system.language_model", comp.LanguageModelSystemConfig, f"{M}.systems.language_model:build_language_model", "token ids → logits")
REGISTRY.register("objective", "objective.next_token_ce", comp.NextTokenObjectiveConfig, "caramba.engine.train.objectives:NextTokenObjective", "next-token cross-entropy")
REGISTRY.register("trainer", "trainer.standard", comp.EmptyConfig, "caramba.engine.train.standard:StandardTrainer", "end-to-end training")

finalize(REGISTRY)
