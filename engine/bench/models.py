"""Which module a benchmark's ``models:`` entry names.

An entry is a name the caller passed (``student``, ``teacher``) or a checkpoint path:
a checkpoint folder written by the trainer (``…/checkpoints/step_00001000``, verified
against its checksums) or a bare ``.safetensors`` file. A path is loaded into a fresh
build of the target's system, so it must come from the same architecture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from caramba.engine.model.build import build_system
from caramba.engine.model.context import ForwardContext


def resolve_model(name: str, models: dict[str, nn.Module], target: Any, device: torch.device) -> nn.Module:
    """The module for ``name`` on ``device`` (module docstring); raises with the valid names."""
    if name in models:
        return models[name].to(device)
    path = Path(name)
    if not path.exists():
        raise KeyError(f"benchmark model {name!r} is neither one of {sorted(models)} nor an existing checkpoint path; "
                       "use student/teacher or the path of a checkpoint folder or .safetensors file")
    model = build_system(target.system.ref, target.system.config)
    load_weights(model, path, device)
    return model.to(device)


def load_weights(model: nn.Module, path: Path, device: torch.device) -> None:
    """Load a trainer checkpoint folder (verified) or a ``.safetensors`` file into ``model``."""
    if path.is_dir():
        from caramba.engine.train.checkpoint.files import read_weights

        read_weights(path, model, device)  # safetensors only: state.pt is never read here
        return
    from safetensors.torch import load_model

    missing, unexpected = load_model(model, str(path), strict=False, device=str(device))
    if missing or unexpected:
        raise ValueError(f"{path}: weights do not match the target's model (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")


@torch.no_grad()
def vocab_size(model: nn.Module, device: torch.device) -> int:
    """The model's vocabulary: its ``vocab_size`` attribute, else the width of its logits."""
    size = getattr(model, "vocab_size", None)
    if isinstance(size, int):
        return size
    return int(model(torch.zeros(1, 1, dtype=torch.long, device=device), ForwardContext()).shape[-1])
