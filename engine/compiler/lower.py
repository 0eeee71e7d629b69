"""Lowering: turn a validated manifest into the exact work to do (seed lists expanded)."""

from __future__ import annotations

from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget, Run


def expand_seeds(runs: list[Run]) -> list[Run]:
    """A run with ``seed: [1, 2]`` becomes runs ``<id>-s1`` and ``<id>-s2`` with one seed each."""
    out: list[Run] = []
    for run in runs:
        if isinstance(run.seed, list):
            out += [run.model_copy(update={"id": f"{run.id}-s{seed}", "seed": seed}) for seed in run.seed]
        else:
            out.append(run)
    return out


def lower(manifest: Manifest) -> Manifest:
    """Return a copy of ``manifest`` in which every run has exactly one seed."""
    targets = [
        t.model_copy(update={"runs": expand_seeds(t.runs)}) if isinstance(t, ExperimentTarget) else t
        for t in manifest.targets
    ]
    return manifest.model_copy(update={"targets": targets})
