"""The manifest schema (version 2) as pydantic v2 models, ``extra="forbid"`` everywhere.

``Manifest`` is the root. Component configs (data, system, …) and layer configs come from
the registry (``engine/registry/catalog.py``), so this schema grows with the registry.
This package imports no torch. ``Manifest`` is loaded on first access, so that the
registry's configs may import the field types of ``engine/manifest/paths.py`` without
an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from caramba.engine.manifest.manifest import Manifest

__all__ = ["Manifest"]


def __getattr__(name: str) -> Any:
    """``Manifest`` on first use (module ``__getattr__``, PEP 562)."""
    if name == "Manifest":
        from caramba.engine.manifest.manifest import Manifest

        return Manifest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
