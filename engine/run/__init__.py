"""Run execution: ``execute(compiled, target, workspace)`` runs a target's runs in order.

Each run gets ``.caramba/runs/<run_id>/`` (ids from ``engine/store/ids.py``). A run that
already succeeded with the same id is identical work and is not repeated; an
interrupted one resumes from its newest good checkpoint ("resuming from step N"). A
failed run does not stop the runs after it (they are independent); the caller sees
every record. A run whose ``init_from`` names a run of *another* target of the manifest
(``init_from: {target: base, run: train}``) needs that target: its runs are executed
first (those already succeeded are recognised and skipped); so is a target whose run writes
(``export_hf``) the Hugging Face folder a run starts from, and a succeeded run with
``export_hf`` writes that folder (again, when it is missing or another run's: ``export.py``). SIGTERM (``RunStore.cancel``) makes the current run checkpoint and end
``cancelled``; the runs after it are marked cancelled.

Under torchrun every rank calls ``execute``; rank 0 alone reads and writes the run store,
the console and the artifacts, and tells the other ranks which runs to do.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from caramba.engine import cancel
from caramba.engine.compiler import Compiled
from caramba.engine.manifest.selection import TargetChoiceError, select_target
from caramba.engine.manifest.targets import ExperimentTarget
from caramba.engine.run.errors import RunInputError
from caramba.engine.run.export import export_run
from caramba.engine.store.ids import run_ids
from caramba.engine.store.record import RunRecord
from caramba.engine.store.runs import RunStore
from caramba.engine.train.distributed import DistContext, Strategy

__all__ = ["RunInputError", "execute"]


def pick_target(compiled: Compiled, target: str | None) -> ExperimentTarget:
    """The experiment target that runs for ``target`` (``select_target``: the one rule of the
    CLI, the dry run and the MCP tools)."""
    try:
        chosen = select_target(compiled.manifest, target)
    except TargetChoiceError as exc:
        raise RunInputError(str(exc)) from None
    if not isinstance(chosen, ExperimentTarget):
        raise RunInputError(f"target {chosen.name!r} is a process (agent workflow), not an experiment; "
                            f"run it with its process command (e.g. `caramba {chosen.process.type}`)")
    return chosen


def _needed_targets(compiled: Compiled, target: ExperimentTarget) -> list[str]:
    """Other targets whose runs ``target``'s runs start from (``init_from.target``), whose run is
    its ``trainer.upcycle`` teacher (``teacher.target``), or whose run writes (``export_hf``) the
    Hugging Face folder its teacher or ``init_from.hf`` names, in order."""
    names = [r.init_from.target for r in target.runs if r.init_from is not None and r.init_from.target is not None]
    teacher = getattr(target.trainer.config, "teacher", None) if target.trainer.ref == "trainer.upcycle" else None
    if teacher is not None and teacher.run is not None and teacher.target is not None:
        names.insert(0, teacher.target)
    folders = [teacher.hf] if teacher is not None and teacher.hf else []
    folders += [r.init_from.hf for r in target.runs if r.init_from is not None and r.init_from.hf]
    folders += [r.train.teacher_ckpt for r in target.runs if r.train.teacher_ckpt]
    writers = {run.export_hf: other.name for other in compiled.manifest.experiments() for run in other.runs if run.export_hf}
    names = [writers[f] for f in folders if f in writers] + names
    return [n for i, n in enumerate(names) if n != target.name and n not in names[:i]]


class _Cancel:
    """A SIGTERM flag the trainer polls between steps."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def handler(self, _signum: int, _frame: Any) -> None:
        self.requested = True
        cancel.request()  # verification, benchmarks and evaluation poll this once per batch


def _bound(compiled: Compiled, workspace: Path) -> Compiled:
    """``compiled`` with its paths resolved for ``workspace`` (the files the run will open were
    checked at validation; a manifest compiled without a workspace is checked now)."""
    from caramba.engine.compiler import ManifestInvalid
    from caramba.engine.compiler.compile import bind_workspace

    try:
        return bind_workspace(compiled, workspace)
    except ManifestInvalid as exc:
        raise RunInputError("the manifest does not fit this workspace:\n" + "\n".join(e.render() for e in exc.errors)) from None


def execute(compiled: Compiled, target: str | None, workspace: Path, console: Console | None = None) -> list[RunRecord]:
    """Run every run of the target in order (see the module docstring); returns their records."""
    from caramba.engine.run.process import execute_process, process_target

    console = console or Console(highlight=False)
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 prints (torchrun's RANK contract)
        console = Console(quiet=True)
    compiled = _bound(compiled, workspace)
    if (process := process_target(compiled, target)) is not None:  # agent workflow: caramba.processes
        return [execute_process(compiled, process, workspace, console)]
    chosen = pick_target(compiled, target)
    for needed in _needed_targets(compiled, chosen):
        console.print(f"target {chosen.name!r} starts from weights of target {needed!r}: running it first")
        execute(compiled, needed, workspace, console)
    return _execute(compiled, chosen, join(compiled, chosen), workspace, console)


def join(compiled: Compiled, chosen: ExperimentTarget) -> DistContext:
    """This process's rank under torchrun (a world of one otherwise), for the target's device."""
    from caramba.engine.capabilities import resolve_device

    try:
        device = resolve_device(chosen.runs[0].train.device, f"run {chosen.runs[0].id!r} of target {chosen.name!r}") \
            if chosen.runs else "cpu"
        return DistContext.start(compiled.manifest.defaults.runtime.distributed, torch.device(device).type)
    except ValueError as exc:
        raise RunInputError(str(exc)) from exc


def _prepare(compiled: Compiled, chosen: ExperimentTarget, store: RunStore) -> list[RunRecord]:
    """Rank 0: each run's record (queued, resumable or already succeeded); refuses a running one."""
    records: list[RunRecord] = []
    for run, run_id in zip(chosen.runs, run_ids(compiled, chosen.name)):
        run_dir = store.run_dir(run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        previous = RunRecord.load(run_dir) if (run_dir / "status.json").is_file() else None
        if previous is not None and previous.status == "running":
            raise RunInputError(f"run {run_id} is already running in process {previous.pid}; wait for it or "
                                f"`caramba runs cancel {run_id}`")
        if previous is not None and previous.status == "succeeded":
            records.append(previous)
            continue
        record = RunRecord(run_id, chosen.name, run.id, compiled.manifest.name, compiled.digest, dir=str(run_dir),
                           steps=run.steps, step=previous.step if previous else 0)
        record.save()
        records.append(record)
    return records


def _execute(compiled: Compiled, chosen: ExperimentTarget, ctx: DistContext, workspace: Path, console: Console) -> list[RunRecord]:
    """The runs of ``chosen`` in order; only rank 0 reads and writes the run store and prints."""
    from caramba.engine.run.session import RunSession

    decision: dict[str, Any] = {"error": None, "records": []}
    if ctx.main:
        try:
            decision["records"] = [r.to_json() for r in _prepare(compiled, chosen, RunStore(workspace))]
        except RunInputError as exc:
            decision["error"] = str(exc)
    decision = ctx.broadcast(decision)
    if decision["error"] is not None:
        raise RunInputError(decision["error"])
    records = [RunRecord(**r) for r in decision["records"]]
    strategy = Strategy(ctx)
    cancelled = _Cancel()
    cancel.reset()
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, cancelled.handler) if main_thread else None
    try:
        for index, record in enumerate(records):
            if record.status == "succeeded":
                console.print(f"[green]already succeeded[/]: {record.id} (identical work; `caramba runs show {record.id}`)")
                if ctx.main:
                    export_run(chosen.runs[index], record, console)
                continue
            if ctx.any(cancelled()):
                record.status, record.reasons = "cancelled", ["cancelled before it started"]
                if ctx.main:
                    record.save()
                continue
            run = chosen.runs[index]
            session = RunSession(compiled, chosen, run, record, workspace, console, cancelled, strategy)
            records[index] = session.execute()
            if ctx.main:
                export_run(run, records[index], console)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old)
    return records
