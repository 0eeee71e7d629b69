"""Load a finished (or checkpointed) run's model for inference.

A run directory holds ``manifest.yml`` (the resolved manifest of its target and run)
and ``checkpoints/``. The model is rebuilt from the manifest through the registry
(``build_system``) and the newest *good* checkpoint is loaded with the trainer's own
loader (``Checkpoints.latest``: checksums verified, a damaged one skipped and announced).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

log = logging.getLogger("caramba")


class NoCheckpoint(FileNotFoundError):
    """The run has no usable checkpoint yet."""


@dataclass
class LoadedRun:
    """A run's model (eval mode, on its device), its manifest target and its tokenizer spec."""

    run_id: str
    run_dir: Path
    model: nn.Module
    target: Any
    tokenizer: str
    step: int
    digest: str


def load_run(workspace: Path, run_id: str, device: torch.device | str = "cpu") -> LoadedRun:
    """Rebuild ``run_id``'s model and load its newest good checkpoint (raises :class:`NoCheckpoint`)."""
    from caramba.engine.compiler.compile import compile_manifest
    from caramba.engine.model.build import build_system
    from caramba.engine.store import RunStore
    from caramba.engine.train.checkpoint import Checkpoints

    record = RunStore(workspace).get(run_id)
    run_dir = Path(record.dir)
    manifest = run_dir / "manifest.yml"
    if not manifest.is_file():
        raise NoCheckpoint(f"run {record.id} has no manifest.yml in {run_dir}; it never started — run it with `caramba run`")
    compiled = compile_manifest(str(manifest))
    target = next(t for t in compiled.manifest.experiments() if t.name == record.target)
    device = torch.device(device)
    model = build_system(target.system.ref, target.system.config)
    found = Checkpoints(run_dir / "checkpoints", compiled.manifest.defaults.runtime, log.warning).latest(model, device)
    if found is None:
        raise NoCheckpoint(f"run {record.id} has no good checkpoint in {run_dir / 'checkpoints'}; "
                           "train it first (`caramba run`) or check `caramba runs show` for its status")
    step, _ = found
    return LoadedRun(record.id, run_dir, model.to(device).eval(), target, compiled.manifest.defaults.data.tokenizer,
                     step, record.manifest_digest)
