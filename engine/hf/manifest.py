"""The manifest written by ``caramba import-hf``, and reading a model config back from it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from caramba.engine.hf.checkpoint import CheckpointError

log = logging.getLogger("caramba.hf")


def manifest_for(model: dict[str, Any], source: str, name: str) -> dict[str, Any]:
    """A runnable version-2 manifest fine-tuning ``model`` on a token file (data.npy).

    The run starts from the imported weights (``init_from: model.safetensors``, strict),
    not from a fresh initialisation."""
    vocab = model["embedder"]["vocab_size"]
    block = min(256, model["embedder"].get("max_seq_len") or 256)  # a position table caps the window (GPT-2)
    return {
        "version": 2, "name": name,
        "notes": f"Imported from the Hugging Face checkpoint {source}; weights in model.safetensors (caramba names).",
        "defaults": {"data": {"val_frac": 0.05}},
        "targets": [{
            "type": "experiment", "name": "finetune", "description": f"fine-tune {source} (vocab {vocab})", "backend": "torch",
            "task": "task.language_modeling",
            "data": {"ref": "dataset.tokens", "config": {"path": "data.npy", "block_size": block}},
            "system": {"ref": "system.language_model", "config": {"model": model}},
            "objective": "objective.next_token_ce", "trainer": "trainer.standard",
            "runs": [{"id": "finetune", "seed": 0, "steps": 100, "init_from": {"path": "model.safetensors"},
                      "train": {"batch_size": 4, "block_size": block, "lr": 1e-5, "device": "auto"}}],
        }],
        "entrypoints": {"default": "finetune"},
    }


def write_manifest(model: dict[str, Any], source: str, path: Path) -> Path:
    """Write the manifest with a header naming its origin; return its path."""
    header = (f"# {path.parent.name} — {source} imported as a caramba TransformerModel (weights: model.safetensors).\n"
              "# Export back with: caramba export-hf <this folder> --out <hf folder>\n")
    path.write_text(header + yaml.safe_dump(manifest_for(model, source, path.parent.name.replace(" ", "_") or "imported"),
                                            sort_keys=False))
    return path


def read_model_config(folder: Path) -> dict[str, Any]:
    """The TransformerModel config of the first experiment target in ``folder``/manifest.yml."""
    manifest = folder / "manifest.yml"
    if not manifest.is_file():
        raise CheckpointError(f"{folder} has no manifest.yml; give a run id or run directory, or a folder written by "
                              "`caramba import-hf` (manifest.yml + model.safetensors)")
    data = yaml.safe_load(manifest.read_text())
    for target in data.get("targets", []):
        model = target.get("system", {}).get("config", {}).get("model")
        if isinstance(model, dict) and model.get("type") == "TransformerModel":
            return model
    raise CheckpointError(f"{manifest} has no experiment target with a TransformerModel")


def weights_of(folder: Path, checkpoint: str = "final") -> Path:
    """The caramba weights of ``folder``: a run's ``final``/``best`` checkpoint, or ``model.safetensors``.

    ``final`` is the newest checkpoint that verifies; a newer damaged one is skipped with a warning.
    """
    from caramba.engine.train.checkpoint.files import newest_good

    root = folder / "checkpoints"
    if root.is_dir():
        found = newest_good(root, checkpoint)
        if found is not None:
            for why in found[2]:
                log.warning("run %s: skipped checkpoint %s", folder.name, why)
            return found[0] / "model.safetensors"
        raise CheckpointError(f"run {folder.name} has no good {checkpoint} checkpoint"
                              + (" (set defaults.runtime.save_best)" if checkpoint == "best" else ""))
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise CheckpointError(f"{folder} has no model.safetensors with caramba parameter names (written by `caramba import-hf`) "
                              "and no checkpoints/ (a run directory)")
    return weights
