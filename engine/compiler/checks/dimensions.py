"""Dimension flow: every model's widths agree from the embedder to the head."""

from __future__ import annotations

from caramba.engine.compiler.checks import Issue
from caramba.engine.compiler.errors import parse_path
from caramba.engine.manifest import Manifest
from caramba.engine.model.config.base import DimFlow


def check_dimensions(manifest: Manifest) -> list[Issue]:
    """Flow widths through each experiment's model; report every inconsistency."""
    issues: list[Issue] = []
    for t_index, target in enumerate(manifest.targets):
        if target.type != "experiment":
            continue
        flow = DimFlow()
        config = target.system.config
        model = getattr(config, "model", None)
        if model is not None and hasattr(model, "infer"):
            model.infer(flow, f"targets[{t_index}].system.config.model")
        elif hasattr(config, "infer"):  # systems without a `model` (system.graph) check themselves
            config.infer(flow, f"targets[{t_index}].system.config")
        issues += [Issue(parse_path(i.path), i.message, i.hint) for i in flow.issues]
    return issues
