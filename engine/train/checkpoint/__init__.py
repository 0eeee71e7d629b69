"""Checkpoints: safetensors weights plus optimizer, scaler, sampler and RNG state, written
atomically with checksums; resumption from the newest good one."""

from caramba.engine.train.checkpoint.files import CorruptCheckpoint
from caramba.engine.train.checkpoint.keeper import Checkpoints

__all__ = ["Checkpoints", "CorruptCheckpoint"]
