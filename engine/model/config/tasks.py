"""Configs of the synthetic datasets and objectives of the non-language tasks
(classification, node classification, denoising)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import StrictModel


class SyntheticVectorsConfig(StrictModel):
    """``dataset.synthetic_vectors``: points around ``n_classes`` seed-derived centres in
    ``d_in`` dimensions; the label is the centre a point was drawn from."""

    n_samples: int = Field(default=4096, ge=2, description="examples in the dataset (train + val)")
    d_in: int = Field(ge=1, description="features per example")
    n_classes: int = Field(default=4, ge=2, description="classes (centres)")
    noise: float = Field(default=0.5, ge=0, description="standard deviation around a centre")


class SyntheticImagesConfig(StrictModel):
    """``dataset.synthetic_images``: each class is a seed-derived smooth image template;
    examples are a template plus Gaussian noise (B, channels, size, size)."""

    n_samples: int = Field(default=4096, ge=2, description="examples in the dataset (train + val)")
    image_size: int = Field(default=16, ge=2, description="height = width")
    channels: int = Field(default=3, ge=1, description="channels")
    n_classes: int = Field(default=4, ge=2, description="classes (templates)")
    noise: float = Field(default=0.5, ge=0, description="pixel noise standard deviation")


class SyntheticGraphConfig(StrictModel):
    """``dataset.synthetic_graph``: a stochastic block model (communities = classes, edge
    probability ``p_in`` inside, ``p_out`` across) with noisy class-mean node features."""

    n_nodes: int = Field(default=200, ge=4, description="nodes")
    n_features: int = Field(default=16, ge=1, description="features per node")
    n_classes: int = Field(default=4, ge=2, description="communities")
    p_in: float = Field(default=0.1, ge=0, le=1, description="edge probability inside a community")
    p_out: float = Field(default=0.01, ge=0, le=1, description="edge probability across communities")
    noise: float = Field(default=1.0, ge=0, description="feature noise standard deviation")


class ClassificationObjectiveConfig(StrictModel):
    """``objective.classification_ce``: cross-entropy of ``model(inputs)`` against class ``targets``."""

    aux_weight: float = Field(default=0.01, ge=0.0, description="weight of auxiliary losses (MoE balance)")
    label_smoothing: float = Field(default=0.0, ge=0.0, lt=1.0, description="label smoothing")


class MSEObjectiveConfig(StrictModel):
    """``objective.mse``: mean squared error of ``model(inputs)`` against float ``targets``."""

    aux_weight: float = Field(default=0.01, ge=0.0, description="weight of auxiliary losses")


class DiffusionObjectiveConfig(StrictModel):
    """``objective.diffusion``: DDPM ε-prediction (Ho et al., 2020): t ~ U{0…T−1},
    x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε, loss = ‖ε − model(x_t, t)‖²."""

    n_timesteps: int = Field(default=1000, ge=1, description="diffusion steps T")
    schedule: Literal["linear", "cosine"] = Field(default="linear", description="β schedule (cosine: Nichol & Dhariwal, 2021)")
    beta_start: float = Field(default=1e-4, gt=0, lt=1, description="β₁ of the linear schedule")
    beta_end: float = Field(default=0.02, gt=0, lt=1, description="β_T of the linear schedule")
    aux_weight: float = Field(default=0.01, ge=0.0, description="weight of auxiliary losses")


class NodeObjectiveConfig(StrictModel):
    """``objective.node_ce``: cross-entropy over the nodes of the batch's split ``mask``."""

    aux_weight: float = Field(default=0.01, ge=0.0, description="weight of auxiliary losses")
