"""One checkpoint on disk: a folder written whole or not at all, with checksums.

Layout of ``step_00000100/``::

    model.safetensors   weights (shared/tied tensors stored once)
    state.pt            optimizer, loss scaler, RNG states, sampler position, trackers
                        (tensors and plain values only: read with ``weights_only=True``)
    meta.json           {"step", "files": {name: sha256}, "metrics"} — written last

The folder is assembled under a temporary name, every file fsynced, then renamed into
place, so a crash leaves either the previous checkpoint or the complete new one. A
checkpoint is *good* when ``meta.json`` parses and every listed file has its checksum;
a truncated or bit-flipped file fails :func:`verify` and is skipped by the loader.

Nothing is ever unpickled: weights are safetensors, and ``state.pt`` is read by
:func:`read_state` with ``torch.load(weights_only=True)``, whose unpickler accepts only
tensors, containers and primitives plus the classes of :data:`SAFE_GLOBALS` (none
today). A ``state.pt`` holding anything else is a :class:`CorruptCheckpoint`, never
executed. :func:`read_weights` loads weights alone (benchmarks of a checkpoint folder
never touch ``state.pt``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model
from torch import nn

WEIGHTS, STATE, META = "model.safetensors", "state.pt", "meta.json"
#: Classes the restricted unpickler of ``state.pt`` may build besides tensors and
#: primitives (an allow-list: add a class here only if it is plain data).
SAFE_GLOBALS: list[Any] = []


class CorruptCheckpoint(ValueError):
    """A checkpoint folder failed verification (missing file, bad checksum, unreadable meta)."""


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(folder: Path, model: nn.Module, state: dict[str, Any], step: int, metrics: dict[str, float]) -> Path:
    """Write a complete checkpoint at ``folder`` atomically (replacing one that is there)."""
    tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_model(model, str(tmp / WEIGHTS))
    torch.save(state, tmp / STATE)
    files = {name: sha256(tmp / name) for name in (WEIGHTS, STATE)}
    (tmp / META).write_text(json.dumps({"step": step, "files": files, "metrics": metrics}, indent=2, sort_keys=True))
    for name in (WEIGHTS, STATE, META):
        _fsync(tmp / name)
    return swap_folder(tmp, folder)


def swap_folder(tmp: Path, folder: Path) -> Path:
    """Put the complete folder ``tmp`` in place at ``folder`` and return ``folder``.

    A folder cannot be renamed over a non-empty one, so an existing ``folder`` is first
    renamed aside to ``.<name>.<pid>.old``, ``tmp`` renamed in, and the old one deleted;
    the parent directory is fsynced last so the renames survive a power cut. A process
    killed between the two renames leaves the ``.old`` folder, which
    ``Checkpoints.latest`` removes (with the ``.tmp`` of an unfinished write). The files
    inside ``tmp`` must already be fsynced by the caller."""
    if folder.exists():
        old = folder.parent / f".{folder.name}.{os.getpid()}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old)
    else:
        os.replace(tmp, folder)
    _fsync(folder.parent)
    return folder


def verify(folder: Path) -> dict[str, Any]:
    """Return the checkpoint's meta, or raise :class:`CorruptCheckpoint` saying what is wrong."""
    try:
        meta = json.loads((folder / META).read_text())
        files = meta["files"]
        step = int(meta["step"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptCheckpoint(f"{folder.name}: unreadable {META} ({exc})") from None
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise CorruptCheckpoint(f"{folder.name}: {name} is missing")
        if sha256(path) != expected:
            raise CorruptCheckpoint(f"{folder.name}: {name} fails its checksum (truncated or corrupt)")
    return {**meta, "step": step}


def newest_good(root: Path, which: str = "final") -> tuple[Path, dict[str, Any], list[str]] | None:
    """The checkpoint of ``root`` (a run's ``checkpoints/``) to read as ``which``.

    ``best`` is the ``best`` folder; ``final`` the newest ``step_*`` folder that verifies.
    Returns (folder, its meta, why each newer candidate was skipped), or None when none
    verifies. Callers say what was skipped: a damaged checkpoint is never passed over
    silently.
    """
    candidates = [root / "best"] if which == "best" else sorted(
        (p for p in root.glob("step_*") if p.is_dir()), key=lambda p: p.name, reverse=True)
    skipped: list[str] = []
    for candidate in candidates:
        try:
            return candidate, verify(candidate), skipped
        except CorruptCheckpoint as exc:
            skipped.append(str(exc))
    return None


def read_weights(folder: Path, model: nn.Module, device: torch.device) -> dict[str, Any]:
    """Verify the checkpoint and load its weights into ``model``; return its meta.

    A folder written by a distributed run (``sharded.py``) holds DCP shards instead of
    safetensors; they load the same way, into a plain one-process model."""
    if (folder / "dcp").is_dir():
        from caramba.engine.train.checkpoint.sharded import load_weights

        return load_weights(folder, model)
    meta = verify(folder)
    missing, unexpected = load_model(model, str(folder / WEIGHTS), strict=False, device=str(device))
    if missing or unexpected:
        raise CorruptCheckpoint(f"{folder.name}: weights do not match the model (missing {missing[:3]}, "
                                f"unexpected {unexpected[:3]}); was the manifest's model changed?")
    return meta


def read_state(path: Path) -> dict[str, Any]:
    """``state.pt`` through the restricted unpickler (see the module docstring)."""
    import pickle

    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CorruptCheckpoint(f"{path.parent.name}: {STATE} holds objects that are not plain training state "
                                f"(refused, nothing executed: {first})") from None
    if not isinstance(state, dict):
        raise CorruptCheckpoint(f"{path.parent.name}: {STATE} is a {type(state).__name__}, not a training-state dict")
    return state


def read(folder: Path, model: nn.Module, device: torch.device) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify, load the weights into ``model`` and return (meta, training state of ``state.pt``)."""
    meta = read_weights(folder, model, device)
    return meta, read_state(folder / STATE)
