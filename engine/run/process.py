"""Process targets under ``caramba run``: the hook from the run store to ``caramba.processes``.

A ``type: process`` target (an agent workflow such as a brainstorm) has no training
runs; it gets one run directory ``.caramba/runs/<target>-<process type>-<hash8>/``
(hash over the resolved target and the engine version, like training runs) holding
``status.json`` and the process's ``output_dir``. Running the same manifest again uses
the same directory, so an interrupted process resumes from its checkpoint. A process
that completes, or stops cleanly at its budget, is ``succeeded`` (the reason says
which); one that ends without its outcome (a brainstorm without a valid proposal), a
provider that kept failing, or a configuration problem (no model, unknown persona…)
is ``failed`` with the message and its hint.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from caramba.engine.compiler import Compiled
from caramba.engine.manifest.selection import TargetChoiceError, select_target
from caramba.engine.manifest.targets import ProcessTarget
from caramba.engine.store.hooks import run_ended
from caramba.engine.store.ids import resolved_target, run_hash
from caramba.engine.store.process import own_start_time
from caramba.engine.store.record import RunRecord
from caramba.engine.store.runs import RunStore


def now() -> str:
    """UTC timestamp, ISO 8601 (as training runs record it)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def stopped_by(exc: BaseException) -> str:
    """The reason recorded for an exception that ended a process run, naming its type:
    ``interrupted (KeyboardInterrupt); run again to resume`` for Ctrl-C, else
    ``stopped by ValueError: <first line of its message>; run again to resume``."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (KeyboardInterrupt); run again to resume"
    lines = str(exc).strip().splitlines()
    return f"stopped by {type(exc).__name__}{': ' + lines[0] if lines else ''}; run again to resume"


def process_target(compiled: Compiled, target: str | None) -> ProcessTarget | None:
    """The process target that runs for ``target`` (``select_target``), or None for anything else."""
    try:
        chosen = select_target(compiled.manifest, target)
    except TargetChoiceError:
        return None  # pick_target reports the unknown or ambiguous name
    return chosen if isinstance(chosen, ProcessTarget) else None


def process_run_id(compiled: Compiled, target: ProcessTarget) -> str:
    """``<target>-<process type>-<hash8>`` (see the module docstring)."""
    resolved = resolved_target(compiled, target.name)
    return f"{target.name}-{target.process.type}-{run_hash(resolved, {'process': target.process.type}, {})}"


def execute_process(compiled: Compiled, target: ProcessTarget, workspace: Path, console: Console) -> RunRecord:
    """Run ``target``'s process in its run directory; returns its final record."""
    from caramba.agents.errors import AgentSetupError
    from caramba.engine.compiler.errors import ManifestInvalid
    from caramba.processes import ProcessOptions, run_process

    run_id = process_run_id(compiled, target)
    run_dir = RunStore(workspace).run_dir(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    record = RunRecord(run_id, target.name, target.process.type, compiled.manifest.name, compiled.digest,
                       status="running", started=now(), pid=os.getpid(), pid_start=own_start_time(), dir=str(run_dir))
    record.save()
    output = run_dir / target.process.output_dir
    try:
        result = run_process(target, ProcessOptions(workspace=workspace, output_dir=output, console=console))
    except (AgentSetupError, ManifestInvalid) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        record.status, record.finished, record.reasons = "failed", now(), [str(exc)]
        record.save()
        run_ended(record)
        return record
    except BaseException as exc:  # Ctrl-C, SystemExit or a bug: recorded with its type, then re-raised
        record.status, record.finished, record.reasons = "failed", now(), [stopped_by(exc)]
        record.save()
        raise
    ok = result.status in ("completed", "stopped_budget")
    record.status, record.finished, record.reasons = "succeeded" if ok else "failed", now(), [result.message]
    record.artifacts = [str((output / f).relative_to(run_dir)) for f in result.outputs]
    record.save()
    run_ended(record)
    return record
