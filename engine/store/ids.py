"""Run ids: ``<target>-<run>-<hash8>``, computed before anything starts.

The hash is the sha256 of canonical JSON over the resolved target (with its runs), the
run itself, the data defaults it is trained with (tokenizer, val_frac: they change the
data) and ``caramba.ENGINE_VERSION``. Identical work therefore gets the same id — a
finished run is recognised, a crashed one resumes from its checkpoints — and any change
to the model, data, optimisation or engine gives a new directory.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import caramba
from caramba.engine.compiler import Compiled


def resolved_target(compiled: Compiled, target_name: str) -> dict[str, Any]:
    """The resolved JSON of target ``target_name`` (entrypoint names resolve first)."""
    name = compiled.manifest.target(target_name).name
    return next(t for t in compiled.resolved["targets"] if t["name"] == name)


def run_hash(target: dict[str, Any], run: dict[str, Any], data_defaults: dict[str, Any]) -> str:
    """First 8 hex digits of the run's content hash (see the module docstring)."""
    payload = {"target": target, "run": run, "data": data_defaults, "engine": caramba.ENGINE_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:8]


def run_ids(compiled: Compiled, target_name: str) -> list[str]:
    """The ids of a target's runs, in order."""
    target = resolved_target(compiled, target_name)
    data = compiled.resolved["defaults"]["data"]
    return [f"{target['name']}-{run['id']}-{run_hash(target, run, data)}" for run in target.get("runs", [])]
