"""Optimisers (AdamW, SGD, Lion), parameter groups and freezing, and lr schedules."""

from __future__ import annotations

import torch
from torch import nn

from caramba.engine.manifest.train import TrainConfig
from caramba.engine.train.optim.groups import freeze, param_groups
from caramba.engine.train.optim.lion import Lion
from caramba.engine.train.optim.schedule import Schedule

__all__ = ["Lion", "Schedule", "build_optimizer", "freeze", "param_groups"]


def build_optimizer(model: nn.Module, train: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """The run's optimiser over the trainable parameters; fused AdamW on CUDA.

    Fused AdamW (one kernel for all parameters) is the CUDA fast path; the CPU uses the
    foreach implementation. Both give the same update up to floating-point rounding.
    """
    groups = param_groups(model, train)
    if train.optimizer == "adamw":
        fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
        return torch.optim.AdamW(groups, lr=train.lr, betas=train.betas, weight_decay=train.weight_decay, **fast)
    if train.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=train.lr, momentum=train.momentum, weight_decay=train.weight_decay, foreach=True)
    return Lion(groups, lr=train.lr, betas=train.betas, weight_decay=train.weight_decay)
