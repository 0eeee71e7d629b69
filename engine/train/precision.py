"""Numeric precision of a run: parameter dtype, autocast and fp16 loss scaling.

``train.dtype`` is the dtype of the parameters. ``use_amp`` (CUDA only; the compiler
rejects it on the CPU) runs the forward under ``torch.autocast`` in ``amp_dtype``:
bfloat16 needs nothing else; float16 adds a ``GradScaler`` (dynamic loss scaling) so
small gradients do not underflow. The scaler's state is checkpointed.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager

import torch

from caramba.engine.manifest.train import TrainConfig

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Precision:
    """Autocast context and optional loss scaler of one run."""

    def __init__(self, train: TrainConfig, device: torch.device) -> None:
        self.param_dtype = DTYPES[train.dtype]
        self.amp = train.use_amp and device.type == "cuda"
        if train.use_amp and not self.amp:
            raise ValueError(f"use_amp is a CUDA feature; this run is on {device.type} (set use_amp: false)")
        self.amp_dtype = DTYPES[train.amp_dtype]
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler("cuda") if self.amp and self.amp_dtype == torch.float16 else None

    def autocast(self) -> ContextManager[Any]:
        """The forward's autocast context (a no-op without AMP)."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.amp_dtype)

    @property
    def compute_dtype(self) -> torch.dtype:
        """The dtype matmuls run in (for MFU's peak lookup)."""
        return self.amp_dtype if self.amp else self.param_dtype

    def state_dict(self) -> dict[str, Any]:
        """The scaler state (empty without fp16 scaling)."""
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the scaler state."""
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
