"""Training a node's pilot or full runs on the engine, and reading what they measured.

The session trains in its own process (:func:`train` runs ``caramba.engine.run.execute``
in a worker thread, its console output appended to ``runs.log`` in the session folder),
so a development session needs no second front. The run store does the rest: run ids
are content hashes, a run that already succeeded is not trained again (a replay or a
resumed session finds it), and a run whose process died (the session was killed) is
reported ``failed: process died at step N`` and resumes from its checkpoint when it is
executed again. :func:`planned_ids` gives the ids before anything starts, so the tree
records them first and a resumed session knows which runs are its own.

:func:`pilot_verdict` decides whether a pilot may go on to full runs: the run succeeded,
every training loss is finite, the loss went down (mean of the last third of the steps
below the mean of the first third), and the goal's metric was measured.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

LOG = "runs.log"


@dataclass(frozen=True)
class RunOutcome:
    """One finished run: id, status, the reasons of a failure, the goal metric's value."""

    run_id: str
    status: str
    reasons: list[str]
    value: float | None


def pin_paths(document: dict, manifest: Path, workspace: Path) -> bool:
    """Make every relative path field of ``document`` (the manifest at ``manifest``) absolute.

    A run id hashes the resolved target, where a path stays as written; with absolute
    paths the same work has the same id wherever a session keeps its manifests (another
    session, a replay, a process target), so the run store finds it instead of training again.
    """
    import os

    from caramba.engine.compiler import compile_manifest
    from caramba.engine.compiler.paths import path_fields

    changed = False
    for where, spec, value, _, _ in path_fields(compile_manifest(manifest, [], workspace).manifest):
        if spec.kind == "run_folder" or not spec.is_path(value) or not os.path.isabs(value):
            continue
        node = document
        for part in where[:-1]:
            node = node[part] if isinstance(node, (dict, list)) else None  # type: ignore[index]
        if isinstance(node, dict) and isinstance(node.get(where[-1]), str) and not os.path.isabs(node[where[-1]]):
            node[where[-1]] = value
            changed = True
    return changed


def planned_ids(workspace: Path, manifest: Path, target: str) -> list[str]:
    """The run ids ``manifest`` will train for ``target`` (computed before anything runs)."""
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.store.ids import run_ids

    return run_ids(compile_manifest(manifest, [], workspace), target)


async def train(workspace: Path, manifest: Path, target: str, folder: Path, metric: str) -> list[RunOutcome]:
    """Execute ``manifest``'s runs (skipping succeeded ones, resuming interrupted ones); their outcomes."""
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.run import execute

    def work() -> list[RunOutcome]:
        """Compile and execute in the worker thread."""
        compiled = compile_manifest(manifest, [], workspace)
        with open(folder / LOG, "a", encoding="utf-8") as log:
            console = Console(file=log, highlight=False, width=120, force_terminal=False)
            records = execute(compiled, target, workspace, console)
        return [outcome(workspace, r.id, r.status, list(r.reasons), metric) for r in records]

    return await asyncio.to_thread(work)


def outcome(workspace: Path, run_id: str, status: str, reasons: list[str], metric: str) -> RunOutcome:
    """A run's outcome with the goal metric read from its directory (None when it has none)."""
    from caramba.engine.bench.compare.metrics import read_run
    from caramba.engine.store.runs import RunStore

    value = read_run(RunStore(workspace).run_dir(run_id)).values.get(metric) if status == "succeeded" else None
    return RunOutcome(run_id, status, reasons, value)


def stored(workspace: Path, run_id: str, metric: str) -> RunOutcome | None:
    """The outcome of a run already in the store (None when it is not there or not finished)."""
    from caramba.engine.store.record import RunRecord
    from caramba.engine.store.runs import RunStore

    run_dir = RunStore(workspace).run_dir(run_id)
    if not (run_dir / "status.json").is_file():
        return None
    record = RunRecord.load(run_dir)
    return outcome(workspace, run_id, record.status, list(record.reasons), metric) if record.status == "succeeded" else None


def train_losses(workspace: Path, run_id: str) -> list[float]:
    """The training losses of a run, step by step (non-finite ones as nan)."""
    from caramba.engine.store.runs import RunStore
    from caramba.engine.train.metrics.log import MetricsLog

    rows = MetricsLog(RunStore(workspace).run_dir(run_id) / "metrics.jsonl").rows()
    return [float(r["loss"]) if isinstance(r.get("loss"), (int, float)) else math.nan
            for r in rows if r.get("kind", "train") == "train" and "loss" in r]


def pilot_verdict(workspace: Path, result: RunOutcome, metric: str) -> str | None:
    """None when the pilot may go on; otherwise why it is pruned (module docstring)."""
    if result.status != "succeeded":
        return f"pilot run {result.run_id} {result.status}: {'; '.join(result.reasons) or 'no reason recorded'}"
    losses = train_losses(workspace, result.run_id)
    bad = [i + 1 for i, x in enumerate(losses) if not math.isfinite(x)]
    if bad:
        return f"pilot run {result.run_id}: non-finite training loss at step {bad[0]}"
    if len(losses) < 2:
        return f"pilot run {result.run_id}: {len(losses)} training loss(es) logged, too few to see a trend"
    third = max(1, len(losses) // 3)
    first, last = sum(losses[:third]) / third, sum(losses[-third:]) / third
    if not last < first:
        return (f"pilot run {result.run_id}: training loss did not decrease (mean of the first {third} steps "
                f"{first:.4g}, of the last {third} steps {last:.4g})")
    if result.value is None or not math.isfinite(result.value):
        return f"pilot run {result.run_id}: measured no finite {metric}"
    return None
