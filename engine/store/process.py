"""Which process is a run's process: a pid alone is never trusted with a signal.

A pid read from ``status.json`` or a launch record may be stale (the run ended and the
number was reused) or forged (the file was edited). Before caramba signals a process it
checks, with ``psutil``, that the process now holding that pid is *this workspace's run
process*:

* its start time equals the one recorded when the run started (``pid_start``, seconds
  since the epoch, compared to 10 ms) — a reused pid has a later start time;
* its command line is a caramba run (``python -m caramba run …`` or the ``caramba``
  console script with ``run``);
* its working directory is the workspace root (``caramba run`` runs in the workspace).

Anything else is :class:`ForeignProcess`, with the reason; nothing is signalled.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil


class ForeignProcess(PermissionError):
    """The pid does not belong to this workspace's run process (see the module docstring)."""


def start_time(pid: int) -> float | None:
    """The process's start time (epoch seconds), or None when there is no such process."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, ValueError):
        return None


def own_start_time() -> float:
    """This process's start time (recorded by the run in ``status.json``)."""
    return psutil.Process(os.getpid()).create_time()


def is_caramba_run(cmdline: list[str]) -> bool:
    """True for ``… -m caramba run …`` and ``…/caramba run …`` command lines."""
    for index, arg in enumerate(cmdline[:-1]):
        launcher = arg == "caramba" and index > 0 and cmdline[index - 1] == "-m" or Path(arg).name == "caramba"
        if launcher and cmdline[index + 1] == "run":
            return True
    return False


def verify_run_process(pid: int | None, recorded_start: float | None, workspace: Path) -> psutil.Process:
    """The live process of a run, after the checks of the module docstring; raises
    :class:`ForeignProcess` (or ``ProcessLookupError`` when it is gone)."""
    if pid is None or pid <= 0:
        raise ProcessLookupError("the run has no process recorded")
    if recorded_start is None:
        raise ForeignProcess(f"pid {pid} has no recorded start time, so it cannot be told apart from an unrelated "
                             "process that reuses the number; it is not signalled")
    try:
        process = psutil.Process(pid)
        started, cmdline, cwd = process.create_time(), process.cmdline(), process.cwd()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        raise ProcessLookupError(f"process {pid} has exited") from None
    except psutil.AccessDenied:
        raise ForeignProcess(f"pid {pid} belongs to another user; it is not this workspace's run process") from None
    if abs(started - recorded_start) > 0.01:
        raise ForeignProcess(f"pid {pid} started at {started:.2f}, not at the run's recorded {recorded_start:.2f}: "
                             "the number was reused by another process, which is not signalled")
    if not is_caramba_run(cmdline):
        raise ForeignProcess(f"pid {pid} runs {' '.join(cmdline)[:120]!r}, not `caramba run`; it is not signalled")
    if Path(cwd).resolve() != workspace.resolve():
        raise ForeignProcess(f"pid {pid} is a caramba run of another workspace ({cwd}); it is not signalled")
    return process


def signal_run_process(pid: int | None, recorded_start: float | None, workspace: Path, sig: signal.Signals,
                       group: bool = False) -> None:
    """Send ``sig`` to the verified run process (its process group when ``group``)."""
    process = verify_run_process(pid, recorded_start, workspace)
    if group:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
