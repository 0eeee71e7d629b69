"""Run tools: start a run in its own process, follow it, cancel it, list runs.

``run_manifest`` validates, enforces the workspace limits (``mcp.max_concurrent_runs``,
``mcp.max_steps``; ``mcp.max_wall_s`` is enforced by the launcher's watchdog), writes
the resolved manifest to ``.caramba/manifests/<digest>.yml`` and starts
``caramba run`` detached, returning the run ids at once. With ``wait=true`` it stays
in the call and sends progress notifications until every run has finished. Runs
survive the client and the server: their state is read back from the run store.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import anyio

import yaml
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from caramba.engine.manifest import Manifest
from caramba.engine.store import RunStore
from caramba.engine.store.atomic import write_text
from caramba.engine.store.process import ForeignProcess
from caramba.tools.checking import inspect_manifest
from caramba.tools.launcher import Launch, Launcher
from caramba.tools.manifests import ManifestArg, TargetArg
from caramba.tools.security import Workspace, relocate
from caramba.tools.status import TERMINAL, RunStatus, StatusReader

RunIdArg = Annotated[str, Field(description="a run id from run_manifest or list_runs")]


class RunLaunch(BaseModel):
    """A launched target: the process running it, its run ids in order, and each run's status."""

    launch_id: str = Field(description="the process that executes the runs")
    run_ids: list[str] = Field(description="the target's runs, executed in order; follow each with run_status")
    target: str
    manifest_path: str = Field(description="the resolved manifest as written to the workspace")
    log: str = Field(description="the process's console log (workspace-relative)")
    runs: list[RunStatus] = Field(description="each run's status: at launch, or final when wait=true")


class RunList(BaseModel):
    """Every run of the workspace (newest last), each with its status."""

    runs: list[RunStatus]


def register(server: MCPServer, ws: Workspace, launcher: Launcher) -> None:
    """Add the run tools to ``server``."""
    reader = StatusReader(ws.root, launcher)

    @server.tool()
    async def run_manifest(manifest: ManifestArg, ctx: Context, target: TargetArg = None,
                           wait: Annotated[bool, Field(description="stay in the call until the runs finish, sending progress "
                                                                   "notifications; false returns the run ids at once")] = False,
                           ) -> RunLaunch:
        """Start training a valid manifest's target (train → verify → benchmark) in its own
        process and return its run ids immediately (or, with wait=true, when it finishes).
        Follow it with run_status, stop it with cancel_run, then read get_run_results.
        Refused when the manifest is invalid or breaks the workspace limits (concurrent runs,
        steps per run); runs longer than the wall-clock limit are killed."""
        from caramba.engine.compiler import compile_manifest
        from caramba.engine.store.ids import run_ids

        compiled = inspect_manifest(ws, manifest).require()
        name = _target_name(compiled.manifest, target)
        chosen = compiled.manifest.target(name)
        limits = ws.config.mcp
        too_long = [f"{r.id} ({r.steps} steps)" for r in getattr(chosen, "runs", []) if r.steps > limits.max_steps]
        if too_long:
            raise ToolError(f"refused: runs {', '.join(too_long)} ask for more than the workspace limit mcp.max_steps="
                            f"{limits.max_steps}; lower their steps or raise the limit in caramba.yml")
        folder = ws.root / ".caramba" / "manifests"
        path = folder / f"{compiled.digest[:16]}.yml"
        write_text(path, yaml.safe_dump(relocate(compiled, folder), sort_keys=False))
        ids = run_ids(compile_manifest(str(path)), name)  # what the run process computes from that file
        launch = await anyio.to_thread.run_sync(_launch_locked, ws, reader, launcher, path, name, ids, compiled.digest)
        if wait:
            await _follow(reader, ids, ctx)
        return RunLaunch(launch_id=launch.launch_id, run_ids=ids, target=name, manifest_path=launch.manifest,
                         log=launch.log, runs=[reader.status(i) for i in ids])

    @server.tool()
    def run_status(run_id: RunIdArg) -> RunStatus:
        """The current state of one run: queued, running (with step/steps), succeeded,
        failed or cancelled, with the reasons of a failure and the artifacts written so far.
        A run whose process died is reported failed, with how to resume it."""
        return reader.status(run_id)

    @server.tool()
    def list_runs() -> RunList:
        """Every run in this workspace (newest last) with its state and progress; includes
        runs started from the command line and runs whose process has not started yet."""
        return RunList(runs=reader.all())

    @server.tool()
    async def cancel_run(run_id: RunIdArg) -> RunStatus:
        """Stop a queued or running run: its process is asked to stop (it saves a checkpoint
        and records `cancelled`), and is killed if it does not within a few seconds. Returns
        the run's state afterwards. Cancelling a finished run is refused."""
        current = reader.status(run_id)
        run_id = current.id  # a unique prefix was resolved
        if current.status in TERMINAL:
            raise ToolError(f"run {run_id} already finished ({current.status}); nothing to cancel")
        launch = launcher.for_run(run_id)
        if launch is not None and launcher.alive(launch):
            launcher.stop(launch, "cancelled", "cancelled through the MCP tool cancel_run")
        else:
            try:
                RunStore(ws.root).cancel(run_id)
            except ForeignProcess as exc:
                raise ToolError(f"refused to signal: {exc}. The run's record names a process that is not this "
                                "workspace's `caramba run`; it is reported failed once its process is gone") from None
        for _ in range(150):
            status = reader.status(run_id)
            if status.status in TERMINAL:
                return status
            await asyncio.sleep(0.1)
        return reader.status(run_id)


def _launch_locked(ws: Workspace, reader: StatusReader, launcher: Launcher, path: Path, name: str, ids: list[str],
                   digest: str) -> Launch:
    """Check that the runs are not in progress and the concurrency limit, then spawn — all
    under the run store's file lock, so servers sharing the workspace cannot both pass the
    check (runs in a worker thread: waiting for the lock never blocks the event loop)."""
    limits = ws.config.mcp
    with RunStore(ws.root).lock():
        busy = [s.id for s in map(reader.status_or_none, ids) if s is not None and s.status in ("queued", "running")]
        if busy:
            raise ToolError(f"runs {', '.join(busy)} are already in progress; follow them with run_status or cancel_run")
        active = reader.active_processes()
        if active >= limits.max_concurrent_runs:
            raise ToolError(f"refused: {active} run process(es) already running, the workspace limit mcp.max_concurrent_runs "
                            f"is {limits.max_concurrent_runs}; wait for one to finish (list_runs) or cancel one")
        return launcher.spawn(path, name, ids, digest)


def _target_name(manifest: Manifest, target: str | None) -> str:
    """The experiment target that runs for ``target`` (``select_target``: the same choice as
    ``caramba run`` and the dry run)."""
    from caramba.engine.manifest.selection import TargetChoiceError, select_target

    try:
        chosen = select_target(manifest, target)
    except TargetChoiceError as exc:
        raise ToolError(str(exc)) from None
    if chosen.type != "experiment":
        raise ToolError(f"target {chosen.name!r} is a process (agent workflow), not an experiment; pass target= one of "
                        f"{', '.join(t.name for t in manifest.experiments())}")
    return chosen.name


async def _follow(reader: StatusReader, ids: list[str], ctx: Context) -> None:
    """Poll the runs' status, reporting progress (steps done / total) until all finish."""
    last: tuple[int, int, str] | None = None
    while True:
        statuses = [reader.status(i) for i in ids]
        done = sum(s.step or 0 for s in statuses)
        total = sum(s.steps or 0 for s in statuses) or None
        current = next((s for s in statuses if s.status not in TERMINAL), statuses[-1])
        message = f"{current.id}: {current.status}" + (f", step {current.step}/{current.steps}" if current.steps else "")
        if (done, total or 0, message) != last:
            await ctx.report_progress(done, total, message)
            last = (done, total or 0, message)
        if all(s.status in TERMINAL for s in statuses):
            return
        await asyncio.sleep(0.5)
