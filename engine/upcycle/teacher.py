"""The teacher of a run: its model (eval mode, frozen), its TransformerModel config and where it came from.

Two sources:

* ``train.teacher_ckpt`` (any trainer) or ``trainer.upcycle``'s ``teacher: {hf: …}`` — a
  Hugging Face folder, converted by ``engine/hf``;
* ``trainer.upcycle``'s ``teacher: {run: id, target: name}`` — a succeeded run (of this
  manifest, or a run-store id): the system it trained is read from the run's own
  self-contained ``manifest.yml`` and built (under a forked RNG, so the student run's
  random stream is untouched), and its checkpoint loaded strictly, exactly like
  ``init_from: {run: …}`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from caramba.engine.manifest.targets import ExperimentTarget, Run
from caramba.engine.run.errors import RunInputError


@dataclass
class Teacher:
    """A loaded teacher (see the module docstring)."""

    model: nn.Module
    config: dict[str, Any]
    description: str
    sharded: bool = False  # FSDP2-sharded over the ranks (engine/train/distributed/teacher.py): forwards are collectives


def upcycle_settings(target: ExperimentTarget) -> Any:
    """The target's ``UpcycleConfig`` when its trainer is ``trainer.upcycle``, else None."""
    return target.trainer.config if target.trainer.ref == "trainer.upcycle" else None


def _frozen(model: nn.Module) -> nn.Module:
    for param in model.parameters():
        param.requires_grad_(False)
    return model.eval()


def load_teacher(compiled: Any, target: ExperimentTarget, run: Run, workspace: Path, base_dir: Path) -> Teacher | None:
    """The run's teacher, or None when it has none (errors are :class:`RunInputError`)."""
    from caramba.engine.hf import CheckpointError, load_pretrained, model_config_of

    settings = upcycle_settings(target)
    hf = run.train.teacher_ckpt or (settings.teacher.hf if settings is not None else None)
    if hf:
        try:
            return Teacher(_frozen(load_pretrained(hf)), model_config_of(hf), f"Hugging Face checkpoint {hf}")
        except CheckpointError as exc:
            raise RunInputError(f"teacher {hf}: {exc}") from None
    if settings is None:
        return None
    from caramba.engine.model.build import build_system
    from caramba.engine.model.weights import WeightsMismatch, load_weights
    from caramba.engine.run.init_from import run_dir_of, source_of

    init = settings.teacher
    source = source_of(init, compiled, target, run, workspace, base_dir)
    folder = run_dir_of(init, compiled, target, run, workspace)
    owner = _trained_target(folder)
    with torch.random.fork_rng(devices=[]):
        model = build_system(owner.system.ref, owner.system.config)
    try:
        load_weights(model, source.state, True, init.key_map)
    except WeightsMismatch as exc:
        raise RunInputError(f"teacher ({source.description}): {exc}") from None
    config = owner.system.config.model.model_dump(mode="json", exclude_none=True)
    return Teacher(_frozen(model), config, source.description)


def _trained_target(folder: Path) -> ExperimentTarget:
    """The target a stored run trained, from its self-contained ``manifest.yml`` (its architecture)."""
    from caramba.engine.compiler import ManifestInvalid, compile_manifest

    try:
        compiled = compile_manifest(folder / "manifest.yml")
    except ManifestInvalid as exc:
        raise RunInputError(f"teacher run {folder.name}: its manifest.yml no longer validates ({exc})") from None
    target = compiled.manifest.targets[0]
    if not isinstance(target, ExperimentTarget):
        raise RunInputError(f"teacher run {folder.name} is not an experiment run")
    return target
