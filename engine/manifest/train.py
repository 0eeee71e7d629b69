"""``runs[].train``: how one run trains (optimiser, schedule, precision, device)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.manifest.paths import CheckpointPath
from caramba.engine.model.config.base import StrictModel

DEVICE_PATTERN = r"^(cpu|cuda(:\d+)?|mps|auto)$"


class ScheduleConfig(StrictModel):
    """Learning-rate schedule: warm-up then constant, linear or cosine decay."""

    kind: Literal["constant", "linear", "cosine"] = Field(default="constant", description="decay shape after warm-up")
    warmup_steps: int = Field(default=0, ge=0, description="linear warm-up steps from 0 to lr")
    min_lr_ratio: float = Field(default=0.1, ge=0.0, le=1.0, description="final lr as a fraction of lr (linear, cosine)")


class ParamGroupConfig(StrictModel):
    """Parameters whose names match ``pattern`` (a regex) get their own lr / weight decay."""

    pattern: str = Field(min_length=1, description="regex over parameter names")
    lr: float | None = Field(default=None, gt=0, description="learning rate for the group")
    weight_decay: float | None = Field(default=None, ge=0, description="weight decay for the group")


class EarlyStoppingConfig(StrictModel):
    """Stop when ``metric`` has not improved by ``min_delta`` for ``patience`` evaluations."""

    metric: Literal["val_loss", "train_loss"] = Field(default="val_loss", description="monitored metric")
    patience: int = Field(ge=1, description="evaluations without improvement before stopping")
    min_delta: float = Field(default=0.0, ge=0.0, description="smallest improvement that counts")


class DivergenceConfig(StrictModel):
    """What a non-finite loss or gradient does to the run (``engine/train/divergence.py``).

    ``fail`` ends the run ``failed`` with "diverged at step N"; ``skip`` drops that step's
    update (checked every step: one host sync per step) and fails after ``max_retries``
    consecutive skips; ``rollback`` reloads the newest checkpoint (needs
    ``defaults.runtime.save_every``), multiplies the lr by ``lr_factor`` and continues,
    failing after ``max_retries`` rollbacks.
    """

    action: Literal["fail", "skip", "rollback"] = Field(default="fail", description="fail, skip or rollback")
    lr_factor: float = Field(default=0.5, gt=0, lt=1, description="lr multiplier after each rollback")
    max_retries: int = Field(default=3, ge=1, description="rollbacks, or consecutive skipped steps, before the run fails")


class TrainConfig(StrictModel):
    """One run's training settings (the seed spec's ``train`` block plus optimisation)."""

    phase: Literal["standard", "blockwise", "global"] = Field(default="standard", description="training phase")
    batch_size: int = Field(ge=1, description="sequences per optimiser micro-step")
    block_size: int = Field(ge=1, description="tokens per sequence")
    lr: float = Field(gt=0, description="peak learning rate")
    device: str = Field(default="auto", pattern=DEVICE_PATTERN, description="cpu, cuda, cuda:N, mps or auto")
    dtype: Literal["float32", "float16", "bfloat16"] = Field(default="float32", description="parameter dtype")
    optimizer: Literal["adamw", "sgd", "lion"] = Field(default="adamw", description="optimiser")
    weight_decay: float = Field(default=0.0, ge=0.0, description="decoupled weight decay")
    betas: tuple[float, float] = Field(default=(0.9, 0.95), description="Adam/Lion betas")
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0, description="SGD momentum")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig, description="learning-rate schedule")
    grad_clip: float | None = Field(default=1.0, gt=0, description="clip the global gradient norm (null: no clipping)")
    gradient_accumulation_steps: int = Field(default=1, ge=1, description="micro-steps per optimiser step")
    use_amp: bool = Field(default=False, description="automatic mixed precision (CUDA)")
    amp_dtype: Literal["float16", "bfloat16"] = Field(default="bfloat16", description="AMP compute dtype")
    deterministic: bool = Field(default=False, description="deterministic algorithms (bit-exact resume on the CPU)")
    param_groups: list[ParamGroupConfig] = Field(default_factory=list, description="per-parameter-group overrides")
    freeze: list[str] = Field(default_factory=list, description="regexes of parameter names to freeze")
    early_stopping: EarlyStoppingConfig | None = Field(default=None, description="stop on a plateau")
    teacher_ckpt: CheckpointPath | None = Field(default=None, description="teacher checkpoint: a local HF directory or hf://org/name")
    convergence_target: float | None = Field(default=None, gt=0, description="stop once the training loss is below this")
    convergence_patience: int = Field(default=1, ge=1, description="consecutive steps below the target before stopping")
    convergence_max_steps: int | None = Field(default=None, ge=1, description="hard step cap when converging")
    on_divergence: DivergenceConfig = Field(default_factory=DivergenceConfig, description="non-finite loss or gradient")
