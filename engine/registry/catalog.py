"""Every registered manifest type, in one explicit list.

Importing this module fills :data:`REGISTRY` and builds the tagged unions that make the
manifest schema (``finalize``). Implementations are import-path strings, so nothing here
imports torch. To add a type: write its config (``engine/model/config``) and its module,
register it below, and it is validated, documented in ``caramba schema`` and buildable.
"""

from __future__ import annotations

from caramba.engine.model.config import components as comp
from caramba.engine.model.config import embedders, layers, models, topologies
from caramba.engine.model.config import composites, experts, feedforward as ff, graph, graph_conv, networks as nets, positions, ssm, tasks
from caramba.engine.data import config as data_config
from caramba.engine.manifest import processes, upcycle
from caramba.engine.registry.store import REGISTRY
from caramba.engine.registry.unions import finalize

M = "caramba.engine.model"

# ── layers ────────────────────────────────────────────────────────────────────────────
REGISTRY.register("layer", "LinearLayer", layers.LinearLayerConfig, f"{M}.layers.linear:LinearLayer", "affine projection d_in → d_out")
REGISTRY.register("layer", "RMSNormLayer", layers.RMSNormLayerConfig, f"{M}.layers.norm:RMSNormLayer", "root-mean-square normalisation")
REGISTRY.register("layer", "SwiGLULayer", layers.SwiGLULayerConfig, f"{M}.layers.glu:SwiGLULayer", "SiLU-gated MLP")
REGISTRY.register("layer", "AttentionLayer", layers.AttentionLayerConfig, f"{M}.layers.attention:attention_layer", "causal attention: standard, gqa, decoupled (DBA)")
REGISTRY.register("layer", "LoRALinearLayer", ff.LoRALinearLayerConfig, f"{M}.layers.lora:LoRALinearLayer", "frozen linear + trainable low-rank update, mergeable")
REGISTRY.register("layer", "DropoutLayer", ff.DropoutLayerConfig, f"{M}.layers.elementwise:DropoutLayer", "dropout while training")
REGISTRY.register("layer", "ActivationLayer", ff.ActivationLayerConfig, f"{M}.layers.elementwise:ActivationLayer", "elementwise nonlinearity")
REGISTRY.register("layer", "LayerNormLayer", ff.LayerNormLayerConfig, f"{M}.layers.norm:LayerNormLayer", "layer normalisation")
REGISTRY.register("layer", "MLPLayer", ff.MLPLayerConfig, f"{M}.layers.mlp:MLPLayer", "two-layer MLP (GPT-2 / ViT feed-forward)")
REGISTRY.register("layer", "GEGLULayer", ff.GEGLULayerConfig, f"{M}.layers.glu:GEGLULayer", "GELU-gated MLP")
REGISTRY.register("layer", "ReGLULayer", ff.ReGLULayerConfig, f"{M}.layers.glu:ReGLULayer", "ReLU-gated MLP")
REGISTRY.register("layer", "DenoisingHeadLayer", ff.DenoisingHeadLayerConfig, f"{M}.layers.mlp:DenoisingHeadLayer", "zero-init diffusion output head")
REGISTRY.register("layer", "RopeLayer", positions.RopeLayerConfig, f"{M}.layers.rope:RopeLayer", "rotary position embedding as its own op")
REGISTRY.register("layer", "PositionalEmbeddingLayer", positions.PositionalEmbeddingLayerConfig, f"{M}.layers.positions:PositionalEmbeddingLayer", "learned or sinusoidal absolute positions")
REGISTRY.register("layer", "MoELayer", experts.MoELayerConfig, f"{M}.layers.moe:MoELayer", "top-k mixture of experts with load balancing")
REGISTRY.register("layer", "SSMLayer", ssm.SSMLayerConfig, f"{M}.layers.ssm:SSMLayer", "Mamba selective state-space block")
REGISTRY.register("layer", "GraphConvLayer", graph_conv.GraphConvLayerConfig, f"{M}.layers.graph_conv:GraphConvLayer", "GCN / GAT message passing")

# ── topologies ────────────────────────────────────────────────────────────────────────
REGISTRY.register("topology", "StackedTopology", topologies.StackedTopologyConfig, f"{M}.topologies.stacked:StackedTopology", "layers in sequence")
REGISTRY.register("topology", "ResidualTopology", topologies.ResidualTopologyConfig, f"{M}.topologies.residual:ResidualTopology", "x + f(x)")
REGISTRY.register("topology", "NestedTopology", topologies.NestedTopologyConfig, f"{M}.topologies.stacked:StackedTopology", "a block repeated with fresh weights")
REGISTRY.register("topology", "ParallelTopology", composites.ParallelTopologyConfig, f"{M}.topologies.parallel:ParallelTopology", "branches on one input: sum | mean | concat")
REGISTRY.register("topology", "BranchingTopology", composites.BranchingTopologyConfig, f"{M}.topologies.parallel:BranchingTopology", "branches concatenated, then projected")
REGISTRY.register("topology", "CyclicTopology", composites.CyclicTopologyConfig, f"{M}.topologies.cyclic:CyclicTopology", "one weight-shared block applied N times")
REGISTRY.register("topology", "RecurrentTopology", composites.RecurrentTopologyConfig, f"{M}.topologies.recurrent:RecurrentTopology", "chunks with carried caches and states")
REGISTRY.register("topology", "GraphTopology", graph.GraphTopologyConfig, f"{M}.topologies.graph:GraphTopology", "named-port DAG over a dict of tensors")

# ── embedders and models ──────────────────────────────────────────────────────────────
REGISTRY.register("embedder", "token", embedders.TokenEmbedderConfig, f"{M}.layers.embedding:TokenEmbedder", "token-id lookup table")
REGISTRY.register("model", "TransformerModel", models.TransformerModelConfig, f"{M}.systems.transformer:TransformerModel", "embedder → topology → logits")
REGISTRY.register("embedder", "patch", embedders.PatchEmbedderConfig, f"{M}.layers.embedding:PatchEmbedder", "image patches → tokens (+ class token, positions)")
REGISTRY.register("model", "MLPClassifier", nets.MLPClassifierConfig, f"{M}.systems.classifier:MLPClassifier", "vectors → class logits")
REGISTRY.register("model", "ViTModel", nets.ViTModelConfig, f"{M}.systems.classifier:ViTModel", "vision transformer: patches → class logits")
REGISTRY.register("model", "GCNModel", nets.GCNModelConfig, f"{M}.systems.node_classifier:GCNModel", "node features + edges → node logits")
REGISTRY.register("model", "DiffusionModel", nets.DiffusionModelConfig, f"{M}.systems.denoiser:DiffusionModel", "ε-prediction denoiser over vectors")

# ── components referenced by `ref` ────────────────────────────────────────────────────
REGISTRY.register("task", "task.language_modeling", comp.EmptyConfig, f"{M}.config.components:EmptyConfig", "next-token prediction")
REGISTRY.register("dataset", "dataset.tokens", comp.TokenDatasetConfig, "caramba.engine.data.tokens:TokenDataset", "memmapped token file")
REGISTRY.register("dataset", "dataset.mqar", data_config.MQARConfig, "caramba.engine.data.synthetic:MQARTask", "multi-query associative recall (Zoology)")
REGISTRY.register("dataset", "dataset.copying", data_config.CopyingConfig, "caramba.engine.data.synthetic:CopyingTask", "copy a span after a separator")
REGISTRY.register("dataset", "dataset.selective_copying", data_config.SelectiveCopyingConfig, "caramba.engine.data.synthetic:SelectiveCopyingTask", "copy data tokens scattered among noise (MAD)")
REGISTRY.register("dataset", "dataset.induction_heads", data_config.InductionHeadsConfig, "caramba.engine.data.synthetic:InductionHeadsTask", "after A B … A predict B")
REGISTRY.register("system", "system.language_model", comp.LanguageModelSystemConfig, f"{M}.systems.language_model:build_language_model", "token ids → logits")
REGISTRY.register("objective", "objective.next_token_ce", comp.NextTokenObjectiveConfig, "caramba.engine.train.objectives:NextTokenObjective", "next-token cross-entropy")
REGISTRY.register("task", "task.classification", comp.EmptyConfig, f"{M}.config.components:EmptyConfig", "class prediction")
REGISTRY.register("task", "task.node_classification", comp.EmptyConfig, f"{M}.config.components:EmptyConfig", "graph node class prediction")
REGISTRY.register("task", "task.denoising", comp.EmptyConfig, f"{M}.config.components:EmptyConfig", "diffusion denoising")
REGISTRY.register("dataset", "dataset.synthetic_vectors", tasks.SyntheticVectorsConfig, "caramba.engine.data.synthetic_vectors:SyntheticVectors", "clustered vectors with class labels")
REGISTRY.register("dataset", "dataset.synthetic_images", tasks.SyntheticImagesConfig, "caramba.engine.data.synthetic_images:SyntheticImages", "noisy class-template images")
REGISTRY.register("dataset", "dataset.synthetic_graph", tasks.SyntheticGraphConfig, "caramba.engine.data.synthetic_graph:SyntheticGraph", "stochastic-block-model node classification")
REGISTRY.register("system", "system.classifier", nets.ClassifierSystemConfig, f"{M}.systems.classifier:build_classifier", "inputs → class logits")
REGISTRY.register("system", "system.node_classifier", nets.NodeClassifierSystemConfig, f"{M}.systems.node_classifier:build_node_classifier", "graph → node logits")
REGISTRY.register("system", "system.denoiser", nets.DenoiserSystemConfig, f"{M}.systems.denoiser:build_denoiser", "(x_t, t) → predicted noise")
REGISTRY.register("system", "system.graph", graph.GraphSystemConfig, f"{M}.systems.graph:build_graph_system", "a GraphTopology over the batch's tensors")
REGISTRY.register("objective", "objective.classification_ce", tasks.ClassificationObjectiveConfig, "caramba.engine.train.objectives.classification:ClassificationObjective", "class cross-entropy")
REGISTRY.register("objective", "objective.mse", tasks.MSEObjectiveConfig, "caramba.engine.train.objectives.regression:MSEObjective", "mean squared error")
REGISTRY.register("objective", "objective.diffusion", tasks.DiffusionObjectiveConfig, "caramba.engine.train.objectives.diffusion:DiffusionObjective", "DDPM ε-prediction")
REGISTRY.register("objective", "objective.node_ce", tasks.NodeObjectiveConfig, "caramba.engine.train.objectives.node:NodeObjective", "node cross-entropy on the split's mask")
REGISTRY.register("trainer", "trainer.standard", comp.EmptyConfig, "caramba.engine.train.standard:StandardTrainer", "end-to-end training")
REGISTRY.register("trainer", "trainer.upcycle", upcycle.UpcycleConfig, "caramba.engine.upcycle.trainer:UpcycleTrainer", "distil a teacher: blockwise, then global KD")

# ── processes (agent workflows; implementations in caramba.processes) ─────────────────────
REGISTRY.register("process", "brainstorm", processes.BrainstormProcess, "caramba.processes.brainstorm:run_target", "moderated persona discussion ending in validated manifests")
REGISTRY.register("process", "paper_write", processes.PaperWriteProcess, "caramba.processes.paper_write:run_target", "LaTeX paper from runs: every number traced to its run, reviewed and revised")
REGISTRY.register("process", "development", processes.DevelopmentProcess, "caramba.processes.development:run_target", "experiment loop: propose, pilot, run, analyse and search manifest variants")

finalize(REGISTRY)
