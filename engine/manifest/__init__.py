"""The manifest schema (version 2) as pydantic v2 models, ``extra="forbid"`` everywhere.

``Manifest`` is the root. Component configs (data, system, …) and layer configs come from
the registry (``engine/registry/catalog.py``), so this schema grows with the registry.
This package imports no torch.
"""

from caramba.engine.manifest.manifest import Manifest

__all__ = ["Manifest"]
