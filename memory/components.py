"""The components a run used: the caramba classes its model is made of, and its variants.

The run's ``manifest.yml`` (one target, one run, fully resolved) is compiled and the model
is built on PyTorch's ``meta`` device (no memory, no compute), then every module's class
is listed. That is the truth about what ran (``AttentionLayer`` with ``mode: decoupled``
builds ``DecoupledAttention``), and the qualified names are the code graph's ``Class``
nodes, which is how memory joins runs to code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def components(manifest: Path) -> tuple[int | None, list[str], list[str]]:
    """``(seed, component class qualnames, variant labels)`` of the run manifest ``manifest``."""
    import torch

    from caramba.engine.compiler import compile_manifest
    from caramba.engine.manifest.targets import ExperimentTarget
    from caramba.engine.run.build import build_model

    compiled = compile_manifest(manifest)
    target = compiled.manifest.targets[0]
    if not isinstance(target, ExperimentTarget) or not target.runs:
        return None, [], []
    run = target.runs[0]
    with torch.device("meta"):
        model = build_model(target, run)
    classes = sorted({f"{type(m).__module__}.{type(m).__qualname__}" for m in model.modules()
                      if type(m).__module__.startswith("caramba.")})
    return run.seed, classes, sorted(set(_variants(compiled.resolved)))


def _variants(node: Any) -> list[str]:
    """``attention variant decoupled (AttentionLayer mode=decoupled)`` labels of every layer in the resolved manifest that picks a mode."""
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("type"), str) and isinstance(node.get("mode"), str):
            found.append(f"{node['type'].removesuffix('Layer').lower()} variant {node['mode']} ({node['type']} mode={node['mode']})")
        for value in node.values():
            found.extend(_variants(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_variants(value))
    return found
