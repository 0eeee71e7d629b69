"""Setup facts of each run, read from its run folder — the record, never a model's words.

From ``.caramba/runs/<id>/``:

* ``status.json`` — target, run, manifest name and hash, steps done, start and end time;
* ``manifest.yml`` (the resolved manifest the run was made from) — the run's seed,
  batch size, block size, learning rate, the data file and the tokenizer;
* ``environment.json`` — device, device name, CPU count, Python, PyTorch, NumPy, CUDA,
  caramba and engine versions, host;
* the last checkpoint's ``model.safetensors`` header — the number of trained
  parameters (the product of every stored tensor's shape; no tensor is loaded).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import yaml

from caramba.engine.store.record import RunRecord
from caramba.processes.paper_write.build.model import RunFacts


def parameters(run_dir: Path) -> int | None:
    """Trained parameters from the newest checkpoint's safetensors header (None without a checkpoint)."""
    files = sorted((run_dir / "checkpoints").glob("*/model.safetensors"))
    if not files:
        return None
    with files[-1].open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    return sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")


def _run_entry(manifest: dict[str, Any], record: RunRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    target = next((t for t in manifest.get("targets", []) if t.get("name") == record.target), {})
    runs = target.get("runs", [])
    run = next((r for r in runs if r.get("id") == record.run), runs[0] if runs else {})
    return target, run


def run_facts(record: RunRecord, arm: str) -> RunFacts:
    """The :class:`RunFacts` of one finished run (module docstring)."""
    run_dir = Path(record.dir)
    manifest = yaml.safe_load((run_dir / "manifest.yml").read_text(encoding="utf-8")) or {}
    target, run = _run_entry(manifest, record)
    train = run.get("train") or {}
    data = (target.get("data") or {}).get("config") or {}
    env_file = run_dir / "environment.json"
    environment = json.loads(env_file.read_text(encoding="utf-8")) if env_file.is_file() else {}
    seed = run.get("seed")
    return RunFacts(
        run_id=record.id, arm=arm, seed=int(seed) if isinstance(seed, int) else None,
        manifest_name=record.manifest_name, manifest_hash=record.manifest_digest, steps=int(record.step),
        batch_size=train.get("batch_size"), block_size=train.get("block_size"), lr=train.get("lr"),
        parameters=parameters(run_dir), data=str(data.get("path", (target.get("data") or {}).get("ref", "?"))),
        tokenizer=((manifest.get("defaults") or {}).get("data") or {}).get("tokenizer"),
        started=record.started, finished=record.finished, environment=environment)
