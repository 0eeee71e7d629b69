"""The manifest written by ``caramba import-hf``, and reading a model config back from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from caramba.engine.hf.checkpoint import CheckpointError


def manifest_for(model: dict[str, Any], source: str, name: str) -> dict[str, Any]:
    """A runnable version-2 manifest training ``model`` on a token file (data.npy)."""
    vocab = model["embedder"]["vocab_size"]
    return {
        "version": 2, "name": name,
        "notes": f"Imported from the Hugging Face checkpoint {source}; weights in model.safetensors (caramba names).",
        "defaults": {"data": {"val_frac": 0.05}},
        "targets": [{
            "type": "experiment", "name": "finetune", "description": f"fine-tune {source} (vocab {vocab})", "backend": "torch",
            "task": "task.language_modeling",
            "data": {"ref": "dataset.tokens", "config": {"path": "data.npy", "block_size": 256}},
            "system": {"ref": "system.language_model", "config": {"model": model}},
            "objective": "objective.next_token_ce", "trainer": "trainer.standard",
            "runs": [{"id": "finetune", "seed": 0, "steps": 100,
                      "train": {"batch_size": 4, "block_size": 256, "lr": 1e-5, "device": "auto"}}],
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
        raise CheckpointError(f"{folder} has no manifest.yml; give a folder written by `caramba import-hf` "
                              "(manifest.yml + model.safetensors)")
    data = yaml.safe_load(manifest.read_text())
    for target in data.get("targets", []):
        model = target.get("system", {}).get("config", {}).get("model")
        if isinstance(model, dict) and model.get("type") == "TransformerModel":
            return model
    raise CheckpointError(f"{manifest} has no experiment target with a TransformerModel")
