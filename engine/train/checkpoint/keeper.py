"""``Checkpoints``: when to save, how many to keep, the best one, and which to resume from.

* ``save_every`` (steps; 0: only at the end) and the final step are saved as
  ``step_<N>``; ``keep_last`` newest are kept, older ones deleted.
* ``save_best: <metric>`` also keeps ``best/``, replaced whenever the metric reaches a
  new minimum at an evaluation.
* ``latest()`` walks the step checkpoints newest first and returns the first that
  verifies; each one skipped is announced with the reason (e.g. a truncated file), so a
  crash during a write or a damaged disk costs the steps since the previous good one.
* ``latest()`` first removes the half-written ``.step_*.tmp`` / ``.*.old`` folders a killed
  process left behind (announcing each), so a ``kill -9`` never leaves litter for good.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from caramba.engine.manifest.defaults import RuntimeDefaults
from caramba.engine.train.checkpoint import files
from caramba.engine.train.checkpoint.files import CorruptCheckpoint

PREFIX = "step_"


class Checkpoints:
    """The checkpoint folder of one run (see the module docstring)."""

    def __init__(self, root: Path, runtime: RuntimeDefaults, announce: Callable[[str], None], io: Any = None) -> None:
        """``io`` writes and reads folders: ``files`` (one process) or a ``sharded.ShardedIO`` (DCP, every rank)."""
        self.root, self.runtime, self.announce = root, runtime, announce
        self.io = io if io is not None else files
        self.main = getattr(io, "main", True)  # only the main rank deletes old folders
        self.best_value: float | None = None

    def due(self, step: int) -> bool:
        """True when ``save_every`` asks for a checkpoint after ``step`` steps."""
        return self.runtime.save_every > 0 and step % self.runtime.save_every == 0

    def steps(self) -> list[Path]:
        """Step checkpoint folders, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted((p for p in self.root.iterdir() if p.is_dir() and p.name.startswith(PREFIX)), key=lambda p: p.name)

    def save(self, step: int, model: nn.Module, state: dict[str, Any], metrics: dict[str, float]) -> Path:
        """Write ``step_<N>`` and delete all but the ``keep_last`` newest."""
        folder = self.io.write(self.root / f"{PREFIX}{step:08d}", model, state, step, metrics)
        for old in self.steps()[: -self.runtime.keep_last] if self.main else []:
            shutil.rmtree(old)
        return folder

    def offer_best(self, step: int, metrics: dict[str, float], model: nn.Module, state: dict[str, Any]) -> bool:
        """Save ``best/`` when ``save_best``'s metric improved; True when it was saved."""
        name = self.runtime.save_best
        if name is None or name not in metrics:
            return False
        value = metrics[name]
        if self.best_value is not None and value >= self.best_value:
            return False
        self.best_value = value
        self.io.write(self.root / "best", model, state, step, metrics)
        return True

    def clear_stale(self) -> list[str]:
        """Delete temporary folders of interrupted writes (``.<name>.<pid>.tmp|old``); return their names.

        On several ranks only the main rank deletes (the others would race it for the same
        folders); the others read only ``step_*`` folders, after the main rank has verified one."""
        if not self.root.is_dir() or not self.main:
            return []
        stale = sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.startswith(".") and p.name.endswith((".tmp", ".old")))
        for folder in stale:
            shutil.rmtree(folder)
            self.announce(f"removed {folder.name}: an unfinished checkpoint write of an interrupted process")
        return [p.name for p in stale]

    def latest(self, model: nn.Module, device: torch.device) -> tuple[int, dict[str, Any]] | None:
        """Load the newest good checkpoint into ``model``; return (step, state) or None."""
        self.clear_stale()
        for folder in reversed(self.steps()):
            try:
                meta, state = self.io.read(folder, model, device)
            except CorruptCheckpoint as exc:
                self.announce(f"[yellow]skipping checkpoint {exc}; trying the previous one[/]")
                continue
            return meta["step"], state
        return None

    def paths(self) -> list[str]:
        """Every checkpoint folder kept (for the run record's artifacts)."""
        out = [str(p) for p in self.steps()]
        if (self.root / "best").is_dir():
            out.append(str(self.root / "best"))
        return out
