"""Hugging Face interop: load Llama / GPT-2 checkpoints as caramba models, write their
manifests, and export caramba models back to Hugging Face directories.

* :func:`load_pretrained` — a local checkpoint folder (config.json + safetensors) or
  ``hf://org/name`` (local cache only) → the equivalent ``TransformerModel`` in eval mode,
  whose ``forward(input_ids)`` returns logits (the upcycle trainer's ``teacher_ckpt``);
* :func:`import_hf` — writes ``manifest.yml`` (a runnable experiment around the model)
  and ``model.safetensors`` (caramba parameter names) into a folder;
* :func:`export_hf` — the reverse: a folder from :func:`import_hf` (or any folder with a
  manifest and caramba weights) → ``config.json`` + ``model.safetensors`` that
  ``transformers`` loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from torch import nn

from caramba.engine.hf.checkpoint import CheckpointError, read_config, read_weights, resolve, write_weights

__all__ = ["CheckpointError", "export_hf", "family_of", "import_hf", "load_pretrained", "model_config_of"]


def family_of(cfg: dict[str, Any]) -> ModuleType:
    """The converter module (``llama`` or ``gpt2``) of a checkpoint's config.json."""
    from caramba.engine.hf import gpt2, llama

    families = {"llama": llama, "gpt2": gpt2}
    kind = cfg.get("model_type")
    if kind not in families:
        raise CheckpointError(f"model_type {kind!r} is not supported; supported: {', '.join(families)}")
    return families[kind]


def model_config_of(path: str | Path) -> dict[str, Any]:
    """The caramba TransformerModel config (manifest dict) equivalent to a checkpoint."""
    cfg = read_config(resolve(path))
    return family_of(cfg).model_config(cfg)


def build_model(model: dict[str, Any]) -> nn.Module:
    """Validate a TransformerModel config dict (every manifest check) and build it."""
    from caramba.engine.model.build import build
    from caramba.engine.model.config.base import DimFlow
    from caramba.engine.model.config.models import TransformerModelConfig
    from caramba.engine.registry import catalog  # noqa: F401  (registers every type)

    config = TransformerModelConfig.model_validate(model)
    flow = DimFlow()
    config.infer(flow, "model")
    if flow.issues:
        raise CheckpointError("; ".join(f"{i.path}: {i.message}" for i in flow.issues))
    return build(config)


def load_pretrained(path: str | Path) -> nn.Module:
    """A Llama or GPT-2 checkpoint (folder or ``hf://org/name``) as a caramba model (eval mode)."""
    folder = resolve(path)
    cfg = read_config(folder)
    family = family_of(cfg)
    model = build_model(family.model_config(cfg))
    state = family.to_caramba(read_weights(folder), cfg)
    dtype = next(iter(state.values())).dtype
    model.to(dtype).load_state_dict(state, strict=True)
    return model.eval()


def import_hf(path: str | Path, out: Path) -> Path:
    """Write ``manifest.yml``, ``model.safetensors`` and ``hf_config.json`` for a checkpoint into ``out``."""
    from caramba.engine.hf.manifest import write_manifest

    folder = resolve(path)
    cfg = read_config(folder)
    model = load_pretrained(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_weights(model.state_dict(), out / "model.safetensors")
    (out / "hf_config.json").write_text(json.dumps(cfg, indent=2))
    return write_manifest(family_of(cfg).model_config(cfg), str(path), out / "manifest.yml")


def export_hf(source: str | Path, out: Path, checkpoint: str = "final") -> Path:
    """Write a Hugging Face folder (config.json, model.safetensors) for a caramba model.

    ``source`` is a folder from :func:`import_hf` (manifest.yml + model.safetensors) or a
    run directory (its manifest.yml and the ``final`` — newest good step — or ``best``
    checkpoint). The weights load strictly into the manifest's model before conversion.
    """
    from safetensors.torch import load_file

    from caramba.engine.hf.manifest import read_model_config, weights_of
    from caramba.engine.model.weights import WeightsMismatch, load_weights

    folder = Path(source)
    model = read_model_config(folder)
    family = family_of({"model_type": "gpt2" if model["embedder"].get("positions") == "learned" else "llama"})
    cfg = family.hf_config(model)
    weights = weights_of(folder, checkpoint)
    built = build_model(model)
    try:
        load_weights(built, load_file(weights), strict=True)
    except WeightsMismatch as exc:
        raise CheckpointError(f"{weights} does not belong to this manifest's model: {exc}") from None
    out.mkdir(parents=True, exist_ok=True)
    write_weights(family.to_hf(built.state_dict(), cfg), out / "model.safetensors")
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    return out
