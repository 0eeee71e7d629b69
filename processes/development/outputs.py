"""The session's own files, rewritten however it ends: ``tree.json``, ``tree.md``, the picture
of the search (``tree.png``/``tree.pdf``) and ``report.md``, all from the checkpoint.

The tree package renders them (:mod:`caramba.processes.development.tree`); this module
hands it the tree kept in ``state.json`` and the costs: LLM dollars and tokens per
persona (the runtime's usage) and the compute charged (steps, GPU-hours). The runtime's
transcript, summary and recording are written beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caramba.agents.runtime import SessionState
from caramba.processes.development.budget import Ledger
from caramba.processes.development.config import DevelopmentConfig
from caramba.processes.development.tree import Tree


def tree_of(state: SessionState) -> Tree | None:
    """The tree in the checkpoint (None before the root was added)."""
    data = state.data.get("tree") if isinstance(state.data, dict) else None
    return Tree.model_validate(data) if data else None


def costs(state: SessionState, config: DevelopmentConfig) -> dict[str, Any]:
    """``{"personas": {role: {usd, tokens}}, "compute": {steps, gpu_hours}}``."""
    personas = {role: {"usd": u.get("cost_usd", 0.0), "tokens": u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)}
                for role, u in sorted(state.usage.items())}
    spent = Ledger(state.data.get("charged", {}), config.compute_steps, config.compute_gpu_hours).spent()
    return {"personas": personas, "compute": {"steps": spent.steps, "gpu_hours": spent.gpu_hours}}


def write_outputs(folder: Path, state: SessionState, config: DevelopmentConfig) -> list[str]:
    """Write the files of the module docstring; their paths relative to ``folder``."""
    from caramba.processes.development.tree.markdown import write_tree_md
    from caramba.processes.development.tree.picture import write_picture
    from caramba.processes.development.tree.report import write_report

    tree = tree_of(state)
    if tree is None:
        return []
    files = [tree.save(folder / "tree.json"), write_tree_md(tree, folder / "tree.md")]
    files += write_picture(tree, folder / "tree")
    files.append(write_report(tree, folder, costs(state, config), state.data.get("stopped")))
    return [str(Path(f).resolve().relative_to(folder.resolve())) for f in files]


def summary_lines(state: SessionState) -> list[str]:
    """The summary's lines about the tree: counts per status and the best node."""
    tree = tree_of(state)
    if tree is None:
        return ["- tree: no node yet"]
    counts: dict[str, int] = {}
    for node in tree.ordered():
        counts[node.status.value] = counts.get(node.status.value, 0) + 1
    lines = [f"- nodes: {len(tree.nodes)} (" + ", ".join(f"{n} {s}" for s, n in counts.items()) + ")"]
    best = tree.best()
    if best is not None:
        s = best.metrics[tree.goal.metric]
        lines.append(f"- best: {best.id} {tree.goal.metric} {s.mean:.4f} (runs {', '.join(s.run_ids)})")
    return lines
