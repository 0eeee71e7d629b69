"""A run's true state, from the run store and the server's launch records.

The run store (``caramba.engine.store.RunStore``) is the truth once a run's process has
created its record (it also reports a ``running`` record whose process died as
``failed``). Before that, the launch record says whether the process is starting
(``queued``), was cancelled, or died early (``failed``, with the tail of its log). The
server's own reasons (cancelled through a tool, killed for exceeding ``max_wall_s``)
are added to the record's reasons.

The newest launch wins: when a run is launched again (to resume it) its record still
says the old ``failed``/``cancelled`` until the new process rewrites it; while that
newer launch is alive the run is reported ``queued`` ("resuming from step N"), never
the previous outcome, so a client polling "until succeeded" does not stop early.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field

from caramba.tools.launcher import Launch, Launcher

TERMINAL = ("succeeded", "failed", "cancelled")


class RunStatus(BaseModel):
    """A run's ``status.json`` as the tools report it."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(description="run id: <target>-<run>-<hash8>")
    target: str | None = None
    run: str | None = None
    manifest_name: str | None = None
    manifest_digest: str | None = None
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    started: str | float | None = None
    finished: str | float | None = None
    pid: int | None = None
    step: int | None = Field(default=None, description="optimiser steps done")
    steps: int | None = Field(default=None, description="optimiser steps planned")
    reasons: list[str] = Field(default_factory=list, description="why it failed or stopped, and how to go on")
    artifacts: list[str] = Field(default_factory=list, description="names readable with read_artifact")


class StatusReader:
    """Answers "what is the state of run X" for the tools."""

    def __init__(self, root: Path, launcher: Launcher) -> None:
        self.root = root
        self.launcher = launcher

    def _store(self) -> Any:
        from caramba.engine.store import RunStore

        return RunStore(self.root)

    def status(self, run_id: str) -> RunStatus:
        """The run's state; a ToolError (with did-you-mean) for an unknown id."""
        from caramba.engine.store import UnknownRun
        from caramba.engine.store.runs import InvalidRunId, check_run_id

        try:
            check_run_id(run_id)
        except InvalidRunId as exc:
            raise ToolError(f"{exc} (list_runs shows every run)") from None
        launch = self.launcher.for_run(run_id)
        try:
            record = self._store().get(run_id)
        except UnknownRun as exc:
            if launch is None:
                raise ToolError(f"{exc} (list_runs shows every run)") from None
            return self._from_launch(run_id, launch)
        if launch is None and record.id != run_id:
            launch = self.launcher.for_run(record.id)  # a prefix was given
        return self._overlay(RunStatus.model_validate(record.to_json()), launch, Path(record.dir))

    def status_or_none(self, run_id: str) -> RunStatus | None:
        """Like :meth:`status`, None for an unknown id."""
        try:
            return self.status(run_id)
        except ToolError:
            return None

    def all(self) -> list[RunStatus]:
        """Every run in the store plus runs of launches that have not recorded yet."""
        launches = self.launcher.launches()
        by_run = {run_id: launch for launch in launches for run_id in launch.run_ids}
        out = [self._overlay(RunStatus.model_validate(r.to_json()), by_run.get(r.id), Path(r.dir)) for r in self._store().list()]
        known = {s.id for s in out}
        out += [self._from_launch(run_id, launch) for run_id, launch in by_run.items() if run_id not in known]
        return out

    def active_processes(self) -> int:
        """Run processes alive now: the server's launches plus other running records."""
        pids = {launch.pid for launch in self.launcher.launches() if self.launcher.alive(launch)}
        pids |= {r.pid for r in self._store().list() if r.status == "running" and r.pid}
        return len(pids)

    def _overlay(self, status: RunStatus, launch: Launch | None, run_dir: Path) -> RunStatus:
        if launch is not None and status.status in TERMINAL and status.status != "succeeded" \
                and launch.started > _mtime(run_dir / "status.json") and self.launcher.alive(launch):
            return status.model_copy(update={"status": "queued", "reasons": [
                f"launched again at {launch.started:.0f} ({launch.launch_id}); resuming from step {status.step or 0} "
                f"(it was {status.status})"]})
        if launch is None or launch.state == "launched":
            return status
        update: dict[str, Any] = {"reasons": [*status.reasons, *launch.reasons]}
        if launch.state == "cancelled" and status.status == "failed":
            update["status"] = "cancelled"  # the process died of our SIGTERM/SIGKILL before recording it
        return status.model_copy(update=update)

    def _from_launch(self, run_id: str, launch: Launch) -> RunStatus:
        base = {"id": run_id, "target": launch.target, "pid": launch.pid, "started": launch.started, "reasons": list(launch.reasons)}
        if self.launcher.alive(launch):
            return RunStatus(status="queued", **base)
        if launch.state == "cancelled":
            return RunStatus(status="cancelled", **base)
        tail = _tail(self.root / launch.log)
        base["reasons"].append(f"the run process exited before this run recorded anything; last lines of {launch.log}:\n{tail}")
        return RunStatus(status="failed", **base)


def _mtime(path: Path) -> float:
    """When ``path`` last changed (0 when it does not exist)."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _tail(path: Path, lines: int = 15) -> str:
    if not path.is_file():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
