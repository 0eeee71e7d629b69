"""Distillation pieces of the upcycling phases: losses, the teacher cache, the objectives."""

from caramba.engine.upcycle.distill.cache import TeacherCache, batch_bytes
from caramba.engine.upcycle.distill.keyed import KeyedDataset
from caramba.engine.upcycle.distill.losses import distance, kd_loss, kl_per_token
from caramba.engine.upcycle.distill.objectives import BlockwiseObjective, GlobalObjective

__all__ = ["BlockwiseObjective", "GlobalObjective", "KeyedDataset", "TeacherCache", "batch_bytes", "distance", "kd_loss",
           "kl_per_token"]
