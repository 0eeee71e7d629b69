"""``defaults``: experiment-wide settings for data, logging and runtime."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.manifest.distributed import DistributedConfig
from caramba.engine.manifest.paths import TokenizerPath
from caramba.engine.model.config.base import StrictModel


class DataDefaults(StrictModel):
    """How data is tokenised and split."""

    tokenizer: TokenizerPath = Field(default="byte", description="byte (embedded), tiktoken, gpt2, llama, or a path to a tokenizer.json")
    val_frac: float = Field(default=0.05, ge=0.0, lt=1.0, description="fraction of each token file held out for validation (the tail)")


class LoggingDefaults(StrictModel):
    """Where metrics go. JSONL and Parquet metrics are always written to the run directory."""

    instrument: Literal["rich", "plain"] = Field(default="rich", description="console display")
    wandb: bool = Field(default=False, description="also log to Weights & Biases (needs the wandb package)")
    wandb_project: str = Field(default="caramba", description="W&B project")
    wandb_entity: str = Field(default="", description="W&B team or user")
    wandb_mode: Literal["online", "offline", "disabled"] = Field(default="offline", description="W&B mode")
    eval_iters: int = Field(default=20, ge=1, description="batches per validation-loss estimate")
    eval_every: int = Field(default=0, ge=0, description="steps between validation estimates (0: only at the end)")
    tensorboard: bool = Field(default=False, description="write TensorBoard event files")


class RuntimeDefaults(StrictModel):
    """Checkpointing, resumption and distribution over processes."""

    save_every: int = Field(default=0, ge=0, description="steps between checkpoints (0: only at the end)")
    keep_last: int = Field(default=2, ge=1, description="checkpoints kept (oldest deleted)")
    save_best: str | None = Field(default=None, description="also keep the checkpoint with the lowest value of this metric (e.g. val_loss)")
    resume: bool = Field(default=True, description="resume an interrupted run from its last good checkpoint")
    distributed: DistributedConfig | None = Field(default=None, description="several processes under torchrun: ddp or fsdp "
                                                  "(caramba run --nproc N); see engine/manifest/distributed.py")


class Defaults(StrictModel):
    """The three default sections; every key is optional."""

    data: DataDefaults = Field(default_factory=DataDefaults)
    logging: LoggingDefaults = Field(default_factory=LoggingDefaults)
    runtime: RuntimeDefaults = Field(default_factory=RuntimeDefaults)
