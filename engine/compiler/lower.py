"""Lowering: turn a validated manifest into the exact work to do (seed lists expanded).

Every run ends with one seed; a run that starts from a run of this manifest names the
exact (expanded) run it starts from wherever seeds are involved (``seeds.py``).
"""

from __future__ import annotations

from caramba.engine.compiler.seeds import expand_seeds
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget


def lower(manifest: Manifest) -> Manifest:
    """Return a copy of ``manifest`` in which every run has exactly one seed."""
    targets = [
        t.model_copy(update={"runs": expand_seeds(manifest, t)}) if isinstance(t, ExperimentTarget) else t
        for t in manifest.targets
    ]
    return manifest.model_copy(update={"targets": targets})
