"""Distributed checkpoints: ``torch.distributed.checkpoint`` (DCP) under the same folder contract.

Layout of ``step_00000100/`` for a run with ``runtime.distributed``::

    dcp/                model and optimizer state, written by every rank (DCP: its own
                        shards plus ``.metadata``); keys are the unwrapped module's
                        parameter names, so it loads into any world size or strategy
    state.pt            loss scaler, RNG, stopping counters … (rank 0)
    meta.json           {"step", "format": "dcp", "world_size", "files": {path: sha256}} — last

Every rank writes its shards into ``.step_….tmp/``; rank 0 then adds ``state.pt``,
checksums every file, writes ``meta.json`` and renames the folder into place — the same
all-or-nothing rule as single-process checkpoints (``files.py``). A resumed run reads
the newest folder that verifies on any number of ranks (DCP reshards on load), and a
plain single process (``caramba generate``, the benchmarks) loads the weights alone.
Nothing is unpickled: DCP's pickled metadata and values go through ``safe_dcp.py``.
Ranks must share the run directory's filesystem (one host, or a shared mount).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_state_dict, set_model_state_dict, set_state_dict

from caramba.engine.train.checkpoint.files import META, STATE, CorruptCheckpoint, _fsync, read_state, sha256, swap_folder, verify
from caramba.engine.train.checkpoint.safe_dcp import safe_load
from caramba.engine.train.distributed.context import DistContext

SHARDS = "dcp"


def is_sharded(folder: Path) -> bool:
    """True for a folder written by :class:`ShardedIO`."""
    return (folder / SHARDS).is_dir()


def load_weights(folder: Path, model: nn.Module) -> dict[str, Any]:
    """Verify a sharded checkpoint and load only its weights into a plain (one-process) ``model``; its meta."""
    meta = verify(folder)
    state = {"model": get_model_state_dict(model)}
    safe_load(state, folder / SHARDS, no_dist=True)
    set_model_state_dict(model, state["model"])
    return meta


class ShardedIO:
    """Writes and reads a run's checkpoints through DCP (see the module docstring)."""

    def __init__(self, ctx: DistContext, optimizer: torch.optim.Optimizer) -> None:
        self.ctx, self.optimizer = ctx, optimizer

    @property
    def main(self) -> bool:
        """True on the rank that renames folders and deletes old ones."""
        return self.ctx.main

    def write(self, folder: Path, model: nn.Module, state: dict[str, Any], step: int, metrics: dict[str, float]) -> Path:
        """Write a complete checkpoint at ``folder`` (a collective: every rank calls it)."""
        tmp = folder.parent / f".{folder.name}.tmp"
        if self.main:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        self.ctx.barrier()
        model_state, optim_state = get_state_dict(model, self.optimizer)
        dcp.save({"model": model_state, "optimizer": optim_state}, checkpoint_id=str(tmp / SHARDS), no_dist=not self.ctx.distributed)
        self.ctx.barrier()
        if self.main:
            torch.save(state, tmp / STATE)  # its "optimizer" is None: the optimizer state is in dcp/
            names = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
            files = {name: sha256(tmp / name) for name in names}
            meta = {"step": step, "format": "dcp", "world_size": self.ctx.world_size, "files": files, "metrics": metrics}
            (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
            for name in [*names, META]:
                _fsync(tmp / name)
            swap_folder(tmp, folder)
        self.ctx.barrier()
        return folder

    def read(self, folder: Path, model: nn.Module, device: torch.device) -> tuple[dict[str, Any], dict[str, Any]]:
        """Verify (rank 0), then load weights and optimizer state on every rank; (meta, state)."""
        problem = None
        if self.main:
            try:
                verify(folder)
            except CorruptCheckpoint as exc:
                problem = str(exc)
        problem = self.ctx.broadcast(problem)
        if problem is not None:
            raise CorruptCheckpoint(problem)
        if not is_sharded(folder):
            raise CorruptCheckpoint(f"{folder.name}: written by a one-process run (model.safetensors); "
                                    "remove runtime.distributed to resume it, or start from scratch")
        model_state, optim_state = get_state_dict(model, self.optimizer)
        state = {"model": model_state, "optimizer": optim_state}
        safe_load(state, folder / SHARDS, no_dist=not self.ctx.distributed)
        set_state_dict(model, self.optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
        meta = json.loads((folder / META).read_text())
        return meta, read_state(folder / STATE)
