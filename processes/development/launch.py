"""Development sessions in their own processes: what the MCP tools start, watch and stop.

A session started through MCP runs as ``python -m caramba develop … --out <folder>``,
detached (its own process group, output to ``<folder>.log``), so the MCP front stays
responsive while the loop trains. Each start is recorded in
``.caramba/mcp/developments/<session>.json`` (pid, its start time, folder, log) before
anything else happens. A pid is never trusted alone: :func:`alive` and :func:`stop`
first confirm, with psutil, that the pid still has the recorded start time and a
``caramba develop`` command line.

Stopping ends the loop process at once (its process group gets SIGKILL, as ``kill -9``
would): the run it was training is then reported ``failed: process died at step N`` by
the run store, and starting the session again (``develop_start(resume=<session>)``, or
``caramba develop --resume <folder>``) resumes it from its checkpoint, like every run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from caramba.engine.store.atomic import write_json

RECORDS = Path(".caramba") / "mcp" / "developments"


@dataclass
class DevLaunch:
    """One development session process started by the MCP server."""

    session: str
    folder: str  # workspace-relative
    pid: int
    pid_start: float | None
    log: str  # workspace-relative
    arguments: list[str]  # the command's arguments (a resume repeats the model's)


def record_path(root: Path, session: str) -> Path:
    """Where the launch record of ``session`` lives."""
    return root / RECORDS / f"{session}.json"


def spawn(root: Path, session: str, arguments: list[str]) -> DevLaunch:
    """Start ``caramba develop <arguments> --out developments/<session>`` detached; record it first."""
    folder = Path("developments") / session
    log = folder.with_name(f"{session}.log")
    (root / folder.parent).mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "caramba", "develop", *arguments, "--out", str(folder), "--workspace", str(root)]
    with open(root / log, "ab") as out:
        child = subprocess.Popen(command, cwd=root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    launch = DevLaunch(session, str(folder), child.pid, _start(child.pid), str(log), arguments)
    write_json(record_path(root, session), asdict(launch))
    return launch


def model_arguments(arguments: list[str]) -> list[str]:
    """The model and LLM-budget options among ``arguments`` (what a resume must repeat)."""
    keep = ("--model", "--api-base", "--api-key-env", "--price-per-mtok", "--budget", "--budget-tokens")
    return [x for i, a in enumerate(arguments[:-1]) if a in keep for x in (a, arguments[i + 1])]


def load(root: Path, session: str) -> DevLaunch | None:
    """The launch record of ``session`` (None when the MCP server did not start it)."""
    path = record_path(root, session)
    return DevLaunch(**json.loads(path.read_text())) if path.is_file() else None


def alive(launch: DevLaunch) -> bool:
    """True while the recorded process runs (same pid, same start time, a ``caramba develop``)."""
    try:
        process = psutil.Process(launch.pid)
        if launch.pid_start is not None and abs(process.create_time() - launch.pid_start) > 0.01:
            return False
        if process.status() == psutil.STATUS_ZOMBIE:
            process.wait(timeout=0)  # our own finished child: reap it
            return False
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.TimeoutExpired, psutil.AccessDenied):
        return False
    return "caramba" in cmdline and "develop" in cmdline


def stop(launch: DevLaunch) -> bool:
    """SIGKILL the session's process group (module docstring); False when it was not running."""
    if not alive(launch):
        return False
    try:
        os.killpg(launch.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    try:
        psutil.Process(launch.pid).wait(timeout=10)
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        pass
    return True


def _start(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return None
