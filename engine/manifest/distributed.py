"""``defaults.runtime.distributed``: how a run spreads over several processes (torchrun).

caramba trains on several GPUs (or CPU processes) with PyTorch's own machinery only:
``torchrun`` starts the processes (``caramba run M.yml --nproc N`` execs it for one
host), DDP replicates a model that fits one device, FSDP2 (``fully_shard``) shards one
that does not. The section is optional: a manifest without it still runs correctly under
any ``torchrun`` (DDP with these defaults).

The teacher of a run (``trainer.upcycle``'s ``teacher``, or ``train.teacher_ckpt`` for the
verify gates) is placed by ``teacher``: ``replicated`` keeps a whole copy on every rank (the
default under ddp), ``sharded`` shards it with FSDP2 ``fully_shard`` (frozen, eval mode, no
gradients; the default under fsdp); either way every rank runs the teacher on its own share
of each batch (``engine/train/distributed/teacher.py``).

The global batch never changes meaning: ``train.batch_size × gradient_accumulation_steps``
sequences per optimiser step, whatever the number of ranks (see
``engine/train/distributed/sharding.py`` for how they are split).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from caramba.engine.model.config.base import StrictModel

FSDP_ONLY = ("reshard_after_forward", "param_dtype")
DDP_ONLY = ("bucket_cap_mb", "gradient_as_bucket_view", "static_graph")


class DistributedConfig(StrictModel):
    """Strategy, backend and the strategy's options (validated together)."""

    strategy: Literal["ddp", "fsdp"] = Field(default="ddp", description="ddp: replicate the model (it fits one device); "
                                             "fsdp: shard weights, gradients and optimizer state (FSDP2 fully_shard)")
    backend: Literal["auto", "nccl", "gloo"] = Field(default="auto", description="collective backend (auto: nccl on CUDA, gloo on the CPU)")
    reshard_after_forward: bool | None = Field(default=None, description="fsdp: free gathered weights after the forward "
                                               "(true: less memory, one more all-gather in backward; default true)")
    param_dtype: Literal["float32", "bfloat16", "float16"] | None = Field(default=None, description="fsdp mixed precision: "
                                                                        "dtype weights are gathered and computed in (default: the parameter dtype)")
    reduce_dtype: Literal["float32", "bfloat16", "float16"] | None = Field(default=None, description="dtype gradients are "
                                                                         "reduced in — fsdp: mixed precision (default: param_dtype); "
                                                                         "ddp: bfloat16/float16 compress each bucket before its "
                                                                         "all-reduce (half the bytes; default: the gradient dtype)")
    bucket_cap_mb: float | None = Field(default=None, ge=1, description="ddp: gradient bucket size in MiB (default 25; at "
                                        "least 1: DDP's first bucket is 1 MiB and torch.compile's DDPOptimizer refuses smaller later ones)")
    gradient_as_bucket_view: bool | None = Field(default=None, description="ddp: gradients are views of the buckets "
                                                 "(saves one gradient-sized copy; default true)")
    static_graph: bool | None = Field(default=None, description="ddp: the graph is the same every step (default false)")
    teacher: Literal["replicated", "sharded"] | None = Field(default=None, description="where the teacher (trainer.upcycle's "
                                                            "teacher, train.teacher_ckpt) lives: replicated (a whole copy on every rank; "
                                                            "default under ddp) or sharded (FSDP2 fully_shard, frozen, eval mode; "
                                                            "default under fsdp)")
    device_memory_gib: float | None = Field(default=None, gt=0, description="memory of each device (GiB); the dry run "
                                            "refuses a plan whose per-rank memory exceeds it (default: the detected CUDA device's)")

    @property
    def teacher_placement(self) -> str:
        """``replicated`` or ``sharded``: the manifest's ``teacher``, else the strategy's default."""
        return self.teacher or ("sharded" if self.strategy == "fsdp" else "replicated")

    @model_validator(mode="after")
    def _options_match_strategy(self) -> "DistributedConfig":
        wrong = DDP_ONLY if self.strategy == "fsdp" else FSDP_ONLY
        given = [name for name in wrong if getattr(self, name) is not None]
        if given:
            other = "ddp" if self.strategy == "fsdp" else "fsdp"
            raise ValueError(f"{', '.join(given)} only apply to strategy {other}; remove them or set strategy: {other}")
        return self
