"""What each arm is, said from the record: its resolved target's differences from the baseline's.

For a comparison made from a manifest or from run ids, every run folder holds the
resolved manifest it ran (``manifest.yml``). An arm's note lists the changes from the
baseline arm's target to its own (:func:`caramba.processes.development.tree.diff.diff_manifests`,
dotted paths, ``old → new``), leaving out what always differs between targets (name,
description, runs and their seeds). A development session gives its own notes (the node's
hypothesis and diff against its parent, ``session.py``); this module is not used there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from caramba.engine.bench.compare import Arm
from caramba.processes.development.tree.diff import diff_manifests

IGNORED = ("name", "description", "runs")
MAX_CHANGES = 8


def _target(run_dir: Path, target: str) -> dict[str, Any]:
    manifest = yaml.safe_load((run_dir / "manifest.yml").read_text(encoding="utf-8")) or {}
    found = next((t for t in manifest.get("targets", []) if t.get("name") == target), {})
    return {k: v for k, v in found.items() if k not in IGNORED}


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def arm_notes(arms: list[Arm]) -> dict[str, str]:
    """arm name → its note (module docstring); the first arm is the baseline."""
    base = arms[0]
    reference = _target(base.dirs[0], base.runs[0].target)
    notes = {base.name: "the baseline"}
    for arm in arms[1:]:
        changes = diff_manifests(reference, _target(arm.dirs[0], arm.runs[0].target))
        parts = [f"{c.path}: {_short(c.old)} → {_short(c.new)}" for c in changes[:MAX_CHANGES]]
        more = f"; and {len(changes) - MAX_CHANGES} more" if len(changes) > MAX_CHANGES else ""
        notes[arm.name] = (f"against {base.name}: " + "; ".join(parts) + more) if parts else f"the same target as {base.name}"
    return notes
