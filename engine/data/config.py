"""Configs of the synthetic datasets (torch-free: the manifest schema imports them).

Every synthetic task shares the same knobs: the vocabulary and window it must fit, a
``difficulty`` from 1 (easy) to 5 (hard) that scales the task's own parameters (see each
task's docstring in ``engine/data/synthetic``), how many examples make the training set,
and ``data_seed``, which fixes the examples independently of the run's seed (so runs
with different seeds train on the same data); ``null`` uses the run's seed.
"""

from __future__ import annotations

from pydantic import Field

from caramba.engine.model.config.base import StrictModel


class SyntheticTaskConfig(StrictModel):
    """Shared fields of the synthetic tasks (``dataset.mqar``, ``dataset.copying`` …)."""

    vocab_size: int = Field(default=64, ge=8, description="token ids are < vocab_size (the model's vocabulary must cover it)")
    block_size: int = Field(default=64, ge=8, description="tokens per training sequence")
    difficulty: int = Field(default=1, ge=1, le=5, description="1 (easy) … 5 (hard); scales the task's own parameters")
    num_examples: int = Field(default=20_000, ge=1, description="examples in the training split (validation: val_frac of this)")
    data_seed: int | None = Field(default=None, description="seed of the examples (null: the run's seed)")


class MQARConfig(SyntheticTaskConfig):
    """``dataset.mqar``: multi-query associative recall (Zoology, Arora et al. 2023)."""


class CopyingConfig(SyntheticTaskConfig):
    """``dataset.copying``: reproduce a random span after a separator."""


class SelectiveCopyingConfig(SyntheticTaskConfig):
    """``dataset.selective_copying``: copy the data tokens scattered among noise (MAD, Mamba)."""


class InductionHeadsConfig(SyntheticTaskConfig):
    """``dataset.induction_heads``: after ``A B … A`` predict ``B`` (Olsson et al. 2022)."""
