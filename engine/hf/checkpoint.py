"""Local Hugging Face checkpoint directories: resolve ``hf://`` names, read config and weights.

``hf://org/name`` resolves through the local Hugging Face cache
(``<HF_HUB_CACHE>/models--org--name/snapshots/<revision>``, the revision that
``refs/main`` names); nothing is downloaded. Weights come from ``model.safetensors`` or
a sharded ``model.safetensors.index.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import Tensor


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or converted; the message says what to do."""


def hub_cache() -> Path:
    """The Hugging Face hub cache folder (``huggingface_hub``'s own setting, or its default)."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return Path.home() / ".cache" / "huggingface" / "hub"
    return Path(constants.HF_HUB_CACHE)


def resolve(path: str | Path) -> Path:
    """A local checkpoint directory for ``path`` (a folder, or ``hf://org/name[@revision]``)."""
    text = str(path)
    if not text.startswith("hf://"):
        folder = Path(text)  # `~` is not expanded (workspace paths, engine/manifest/paths.py)
        if not (folder / "config.json").is_file():
            raise CheckpointError(f"{folder} is not a Hugging Face checkpoint directory (no config.json); "
                                  "give a folder holding config.json and *.safetensors, or hf://org/name")
        return folder
    name, _, revision = text[len("hf://"):].partition("@")
    repo = hub_cache() / f"models--{name.replace('/', '--')}"
    ref = repo / "refs" / (revision or "main")
    snapshot = repo / "snapshots" / (ref.read_text().strip() if ref.is_file() else revision or "")
    if not ref.is_file() and not (revision and snapshot.is_dir()) or not (snapshot / "config.json").is_file():
        raise CheckpointError(f"{text} is not in the local Hugging Face cache ({repo}); this machine does not download. "
                              f"Fetch it where there is network (`huggingface-cli download {name}`) and copy the cache, "
                              "or pass the checkpoint folder's path instead")
    return snapshot


def read_config(folder: Path) -> dict:
    """config.json as a dict."""
    return json.loads((folder / "config.json").read_text())


def read_weights(folder: Path) -> dict[str, Tensor]:
    """Every tensor of the checkpoint (single file or shards), on the CPU."""
    from safetensors.torch import load_file

    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        state: dict[str, Tensor] = {}
        for shard in shards:
            state.update(load_file(folder / shard))
        return state
    single = folder / "model.safetensors"
    if not single.is_file():
        raise CheckpointError(f"{folder} has no model.safetensors (or index); save the model with safe_serialization=True")
    return load_file(single)


def write_weights(state: dict[str, Tensor], path: Path) -> None:
    """Save tensors as safetensors (shared storage is copied: safetensors refuses aliases)."""
    from safetensors.torch import save_file

    seen: set[int] = set()
    out = {}
    for key, tensor in state.items():
        ptr = tensor.data_ptr()
        out[key] = tensor.detach().clone().contiguous() if ptr in seen else tensor.detach().contiguous()
        seen.add(ptr)
    save_file(out, str(path))
