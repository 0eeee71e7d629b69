"""Build a run's parts from the manifest through the registry: model, dataset, objective,
trainer, teacher, and where relative data paths resolve.

Path fields were resolved once at validation (``engine/compiler/paths.py``): relative to
the manifest's folder, except for caramba's own presets and manifest text, which resolve
against the workspace — a preset says ``path: data.npy`` meaning *your* data.npy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from caramba.engine.compiler import Compiled
from caramba.engine.compiler.compile import base_folder
from caramba.engine.manifest.defaults import Defaults
from caramba.engine.manifest.targets import ExperimentTarget, Run
from caramba.engine.model.build import build_system
from caramba.engine.registry import REGISTRY
from caramba.engine.train.seeding import seed_everything, set_deterministic


def data_base_dir(compiled: Compiled, workspace: Path) -> Path:
    """Where the manifest's relative paths resolve: the compiler's one rule (``base_folder``).
    A bound manifest's path fields are already absolute (resolved at validation)."""
    return base_folder(compiled.file, workspace)


def build_model(target: ExperimentTarget, run: Run) -> nn.Module:
    """The target's system with fresh weights drawn from the run's seed (a pure function of it)."""
    seed_everything(int(run.seed))  # type: ignore[arg-type]  # lowered runs carry one seed
    set_deterministic(run.train.deterministic)
    return build_system(target.system.ref, target.system.config)


def build_dataset(target: ExperimentTarget, run: Run, defaults: Defaults, base_dir: Path) -> Any:
    """The target's dataset for this run (its ``block_size`` set to the run's)."""
    fields = target.data.config.model_dump()
    if "block_size" in fields:
        fields["block_size"] = run.train.block_size
    cls = REGISTRY.get("dataset", target.data.ref).load()
    return cls(**fields, seed=int(run.seed), val_frac=defaults.data.val_frac, base_dir=base_dir)  # type: ignore[arg-type]


def build_component(kind: str, component: Any) -> Any:
    """An objective or trainer from its ``{ref, config}`` (config fields as flat kwargs)."""
    return REGISTRY.get(kind, component.ref).load()(**component.config.model_dump())
