"""Development tools: start a development session in its own process, watch it, steer it.

``develop_start`` checks its inputs at once (the same checks as ``caramba develop``: a
missing start, an unknown metric, a budget below one pilot are refused here, before any
model call) and starts the loop detached (:mod:`caramba.processes.development.launch`),
returning the session id. ``develop_status`` and ``develop_tree`` read the session's
checkpoint and files; ``develop_approve`` answers a session started with
``approve=true`` before each full run; ``develop_stop`` ends it (resumable with
``develop_start(resume=<session>)``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from caramba.tools.security import Workspace

SESSION = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
SessionArg = Annotated[str, Field(description="a session id from develop_start")]


class DevSession(BaseModel):
    """Where a development session stands: running or how it ended, its nodes, its best node."""

    session: str = Field(description="the session id (its folder under developments/)")
    folder: str = Field(description="the session folder, workspace-relative")
    running: bool = Field(description="whether the loop process is running")
    status: str = Field(description="running | completed | stopped_budget | failed (the checkpoint's status)")
    message: str = Field(default="", description="how it ended, or what it is doing")
    nodes: dict[str, int] = Field(default_factory=dict, description="node count per status")
    best: dict[str, Any] | None = Field(default=None, description="the best done node: id, metric mean, 95% CI, run ids")
    waiting_for_approval: list[str] = Field(default_factory=list, description="nodes whose full runs wait for develop_approve")
    log: str = Field(default="", description="the loop process's console log (workspace-relative)")


class DevTree(BaseModel):
    """A development session's experiment tree, readable (tree.md) and complete (tree.json)."""

    session: str
    markdown: str = Field(description="tree.md: every node, its change, status, metric with CI and run ids")
    tree: dict[str, Any] = Field(description="tree.json")


def register(server: MCPServer, ws: Workspace) -> None:
    """Add the development tools to ``server``."""

    @server.tool()
    def develop_start(goal: Annotated[str, Field(description="the question the loop answers (ignored with resume)")] = "",
                      start: Annotated[str, Field(description="starting manifest: a workspace .yml path or a preset")] = "",
                      metric: Annotated[str, Field(description="goal metric: val_loss, train_loss or <benchmark>.<metric>")] = "val_loss",
                      direction: Annotated[str, Field(description="min (lower is better) or max")] = "min",
                      target: Annotated[float | None, Field(description="stop once the best node's 95% CI is beyond it")] = None,
                      seeds: Annotated[int, Field(description="full runs (seeds) per variant")] = 3,
                      iterations: Annotated[int, Field(description="most iterations (expansions of the tree)")] = 3,
                      patience: Annotated[int, Field(description="stop after this many iterations without a significant gain")] = 2,
                      compute_steps: Annotated[int | None, Field(description="compute budget in training steps")] = None,
                      compute_gpu_hours: Annotated[float | None, Field(description="compute budget in GPU-hours")] = None,
                      model: Annotated[str | None, Field(description="LiteLLM model for every persona")] = None,
                      api_base: Annotated[str | None, Field(description="OpenAI-compatible server URL for model")] = None,
                      budget_usd: Annotated[float | None, Field(description="LLM budget in USD")] = None,
                      approve: Annotated[bool, Field(description="wait for develop_approve before each full run")] = False,
                      resume: Annotated[str | None, Field(description="a stopped session id to continue")] = None,
                      ) -> DevSession:
        """Start a development session (propose → validate → pilot → run with seeds → analyse →
        best-first search) in its own process and return its id at once; follow it with
        develop_status and develop_tree. Bad inputs are refused here, before anything runs."""
        from caramba.agents.errors import AgentSetupError
        from caramba.engine.compiler.errors import ManifestInvalid
        from caramba.processes.development import DevelopmentConfig, load_start
        from caramba.processes.development import launch
        from caramba.processes.development.inputs import check_inputs

        if resume is not None:
            folder = _folder(ws, resume)
            previous = launch.load(ws.root, resume)
            if previous is not None and launch.alive(previous):
                raise ToolError(f"session {resume} is still running; follow it with develop_status")
            again = launch.model_arguments(previous.arguments) if previous is not None else []
            if model is not None:
                again = ["--model", model] + (["--api-base", api_base] if api_base else [])
            launch.spawn(ws.root, resume, ["--resume", str(folder), *again])
            return _status(ws, resume)
        try:
            config = DevelopmentConfig(question=goal, start=start, start_text=load_start(start, ws.root), metric=metric,
                                       direction=direction, target=target, seeds=seeds, iterations=iterations,  # type: ignore[arg-type]
                                       patience=patience, compute_steps=compute_steps,
                                       compute_gpu_hours=compute_gpu_hours, approve="file" if approve else None)
            session = config.slug()
            check_inputs(config, ws.root, ws.root / "developments" / session)
        except AgentSetupError as exc:
            raise ToolError(f"{exc.message}; hint: {exc.hint}") from None
        except ManifestInvalid as exc:
            raise ToolError("the starting manifest is invalid: " + "; ".join(e.render() for e in exc.errors[:5])) from None
        arguments = ["--goal", goal, "--from", start, "--metric", metric, "--direction", direction, "--seeds", str(seeds),
                     "--iterations", str(iterations), "--patience", str(patience)]
        for flag, value in (("--target", target), ("--compute-steps", compute_steps),
                            ("--compute-gpu-hours", compute_gpu_hours), ("--model", model), ("--api-base", api_base),
                            ("--budget", budget_usd)):
            if value is not None:
                arguments += [flag, str(value)]
        arguments += ["--approve", "--approve-via", "file"] if approve else []
        started = launch.spawn(ws.root, session, arguments)
        return _status(ws, started.session)

    @server.tool()
    def develop_status(session: SessionArg) -> DevSession:
        """Where a development session stands: running or how it ended, node counts per status,
        the best node with its CI and run ids, and nodes waiting for develop_approve."""
        return _status(ws, session)

    @server.tool()
    def develop_tree(session: SessionArg) -> DevTree:
        """The session's experiment tree: tree.md (readable) and tree.json (every field)."""
        folder = _folder(ws, session)
        if not (folder / "tree.json").is_file():
            raise ToolError(f"session {session} has no tree yet; its starting manifest is still being checked")
        markdown = (folder / "tree.md").read_text() if (folder / "tree.md").is_file() else ""
        return DevTree(session=session, markdown=markdown, tree=json.loads((folder / "tree.json").read_text()))

    @server.tool()
    def develop_approve(session: SessionArg, node: Annotated[str, Field(description="the node id waiting, e.g. n3")],
                        approve: Annotated[bool, Field(description="true runs its full runs; false skips them")]) -> DevSession:
        """Answer a session started with approve=true: run (or skip) a node's full runs."""
        from caramba.engine.store.atomic import write_json
        from caramba.processes.development.approve import answer_path, request_path

        folder = _folder(ws, session)
        if not re.match(r"^n\d+$", node) or not request_path(folder, node).is_file():
            raise ToolError(f"node {node!r} of session {session} is not waiting for approval; "
                            "develop_status lists the nodes that are")
        write_json(answer_path(folder, node), {"approve": approve})
        return _status(ws, session)

    @server.tool()
    def develop_stop(session: SessionArg) -> DevSession:
        """Stop a running development session now. The run it was training is reported failed
        (process died) and resumes, with the whole session, on develop_start(resume=session)."""
        from caramba.processes.development import launch

        record = launch.load(ws.root, session)
        if record is None or not launch.stop(record):
            raise ToolError(f"session {session} is not running (develop_status says how it ended)")
        return _status(ws, session)


def _folder(ws: Workspace, session: str) -> Path:
    if not SESSION.match(session):
        raise ToolError(f"session id {session!r} is not one develop_start returned (lowercase letters, digits, -)")
    folder = ws.path(f"developments/{session}", "session folder")
    if not folder.is_dir():
        raise ToolError(f"no development session {session!r} in this workspace (developments/{session} is missing)")
    return folder


def _status(ws: Workspace, session: str) -> DevSession:
    from caramba.processes.development import launch

    record = launch.load(ws.root, session)
    running = record is not None and launch.alive(record)
    folder = ws.root / "developments" / session
    state = json.loads((folder / "state.json").read_text()) if (folder / "state.json").is_file() else {}
    tree = (state.get("data") or {}).get("tree") or {}
    counts: dict[str, int] = {}
    for node in tree.get("nodes", {}).values():
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    best = _best(tree)
    waiting = sorted(p.name.split(".")[0] for p in (folder / "approvals").glob("*.request.json")
                     if not (folder / "approvals" / f"{p.name.split('.')[0]}.json").is_file()) if folder.is_dir() else []
    status = state.get("status", "running") if not running else "running"
    if not running and state.get("status") == "running":
        status, message = "failed", "the loop process is not running; develop_start(resume=...) continues it"
    else:
        message = state.get("message", "starting" if running else "")
    return DevSession(session=session, folder=f"developments/{session}", running=running, status=status, message=message,
                      nodes=counts, best=best, waiting_for_approval=waiting, log=record.log if record else "")


def _best(tree: dict[str, Any]) -> dict[str, Any] | None:
    metric = (tree.get("goal") or {}).get("metric")
    direction = (tree.get("goal") or {}).get("direction", "min")
    done = [n for n in tree.get("nodes", {}).values() if n["status"] == "done" and metric in n["metrics"]]
    if not done:
        return None
    pick = min if direction == "min" else max
    node = pick(done, key=lambda n: n["metrics"][metric]["mean"])
    s = node["metrics"][metric]
    return {"node": node["id"], "metric": metric, "mean": s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
            "run_ids": s["run_ids"]}
