"""The builder between validated configs and ``nn.Module`` trees.

Modules never see manifest types: each registered implementation is called with the flat
keyword arguments its config's ``build_kwargs`` returns (topologies receive their
children already built). The registry is the only source of truth for which class
implements which manifest name.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from torch import nn

from caramba.engine.registry import REGISTRY
from caramba.engine.registry.entry import Entry

BUILDABLE_KINDS = ("layer", "topology", "embedder", "model", "system")


def _entry_for(config: BaseModel) -> Entry:
    for kind in BUILDABLE_KINDS:
        for entry in REGISTRY.entries(kind):
            if type(config) is entry.config and (getattr(config, "type", None) in (None, entry.name) or kind == "system"):
                return entry
    raise TypeError(f"no registered implementation for config {type(config).__name__}; register it in engine/registry/catalog.py")


def build(config: BaseModel) -> nn.Module:
    """Build the module (tree) for a layer, topology, embedder or model config."""
    entry = _entry_for(config)
    kwargs: dict[str, Any] = config.build_kwargs(build) if hasattr(config, "build_kwargs") else config.model_dump(exclude={"type"})
    return entry.load()(**kwargs)


def build_system(ref: str, config: BaseModel) -> nn.Module:
    """Build a target's ``system`` component (``system.language_model`` …) from its config.

    The weights are then drawn under the system's initialisation scheme (``init``, or the
    family default: see ``engine/model/init``), from the current RNG state.
    """
    from caramba.engine.model.init import initialise

    entry = REGISTRY.get("system", ref)
    kwargs = config.build_kwargs(build) if hasattr(config, "build_kwargs") else {
        name: build(value) if isinstance(value, BaseModel) and hasattr(value, "type") else value
        for name, value in ((n, getattr(config, n)) for n in type(config).model_fields if n != "init")
    }
    model = entry.load()(**kwargs)
    scheme = config.init_scheme() if hasattr(config, "init_scheme") else None
    if scheme is not None:
        initialise(model, scheme.scheme, scheme.std)
    return model
