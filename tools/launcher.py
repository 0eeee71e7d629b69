"""Starting runs in their own processes, and the wall-clock watchdog.

A tool-started run is a *launch*: one detached process (``python -m caramba run
<manifest> --target T`` in the workspace, its own session, stdout/stderr to a log file)
that executes the target's runs in order. Each launch is recorded in
``.caramba/mcp/launches/<launch_id>.json`` before the process starts, so that a
restarted server still knows which process runs which run ids, when it started, and
whether the server cancelled or killed it.

The run store (``.caramba/runs``) is the truth about a run once its process has
created its record; a launch record answers only for the moments before that, and
adds the server's reasons (cancelled, killed for exceeding ``mcp.max_wall_s``).

A launch record's pid is never trusted alone: a signal goes to this server's own child
object, or — for a launch of an earlier server — only after
``caramba.engine.store.process`` confirmed that the pid is still that launch's
``caramba run`` process (its recorded start time, command line and workspace).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from caramba.engine.store.atomic import write_json
from caramba.engine.store.process import ForeignProcess, signal_run_process, start_time, verify_run_process

GRACE_S = 10.0  # between SIGTERM (the trainer checkpoints) and SIGKILL


@dataclass
class Launch:
    """One run process started by the MCP server."""

    launch_id: str
    run_ids: list[str]
    target: str
    manifest: str
    pid: int
    started: float
    log: str
    state: str = "launched"  # launched | cancelled | killed
    reasons: list[str] = field(default_factory=list)
    term_sent: float | None = None
    pid_start: float | None = None


class Launcher:
    """Spawns runs, remembers them on disk, and enforces the wall-clock limit."""

    def __init__(self, root: Path, max_wall_s: float) -> None:
        self.root = root
        self.folder = root / ".caramba" / "mcp" / "launches"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_wall_s = max_wall_s
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ── records ─────────────────────────────────────────────────────────────────────
    def launches(self) -> list[Launch]:
        """Every launch record, oldest first."""
        out = [Launch(**json.loads(p.read_text())) for p in self.folder.glob("*.json")]
        return sorted(out, key=lambda launch: launch.started)

    def save(self, launch: Launch) -> None:
        """Write ``launch`` atomically."""
        write_json(self.folder / f"{launch.launch_id}.json", asdict(launch))

    def for_run(self, run_id: str) -> Launch | None:
        """The latest launch that runs ``run_id``."""
        found = [launch for launch in self.launches() if run_id in launch.run_ids]
        return found[-1] if found else None

    def alive(self, launch: Launch) -> bool:
        """True while the launch's process runs (reaps our own finished children)."""
        child = self._children.get(launch.launch_id)
        if child is not None:
            return child.poll() is None
        try:
            verify_run_process(launch.pid, launch.pid_start, self.root)
        except (ProcessLookupError, ForeignProcess):
            return False
        return True

    # ── spawning and stopping ───────────────────────────────────────────────────────
    def spawn(self, manifest: Path, target: str, run_ids: list[str], digest: str) -> Launch:
        """Start ``caramba run <manifest> --target <target>`` detached; return its record."""
        launch_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{digest[:6]}-{uuid.uuid4().hex[:6]}"
        log = self.folder / f"{launch_id}.log"
        command = [sys.executable, "-m", "caramba", "run", str(manifest.relative_to(self.root)), "--target", target]
        with self._lock, open(log, "wb") as out:
            child = subprocess.Popen(command, cwd=self.root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
            self._children[launch_id] = child
            launch = Launch(launch_id, run_ids, target, str(manifest.relative_to(self.root)), child.pid, time.time(),
                            str(log.relative_to(self.root)), pid_start=start_time(child.pid))
            self.save(launch)
        return launch

    def stop(self, launch: Launch, state: str, reason: str) -> None:
        """SIGTERM the launch's process group (the trainer checkpoints and records
        ``cancelled``); the watchdog sends SIGKILL after :data:`GRACE_S`."""
        launch.state, launch.term_sent = state, time.time()
        launch.reasons.append(reason)
        self.save(launch)
        self._signal(launch, signal.SIGTERM)

    def _signal(self, launch: Launch, sig: signal.Signals) -> None:
        """Signal the launch's process group: our own child directly, an earlier server's
        launch only once verified as its run process (the module docstring)."""
        child = self._children.get(launch.launch_id)
        try:
            if child is not None:
                if child.poll() is None:
                    os.killpg(child.pid, sig)
                return
            signal_run_process(launch.pid, launch.pid_start, self.root, sig, group=True)
        except (ProcessLookupError, ForeignProcess):
            pass  # it exited (or its pid now names another process, which is left alone)

    # ── the watchdog ────────────────────────────────────────────────────────────────
    def start_watchdog(self, interval_s: float = 1.0) -> None:
        """Run :meth:`enforce` every ``interval_s`` seconds in a daemon thread."""
        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.enforce()

        self._thread = threading.Thread(target=loop, name="caramba-mcp-watchdog", daemon=True)
        self._thread.start()

    def stop_watchdog(self) -> None:
        """Stop the watchdog thread (runs keep going)."""
        self._stop.set()

    def enforce(self) -> None:
        """Kill launches over ``max_wall_s``; SIGKILL those that ignored SIGTERM."""
        now = time.time()
        for launch in self.launches():
            if not self.alive(launch):
                continue
            if launch.term_sent is not None:
                if now - launch.term_sent > GRACE_S:
                    self._signal(launch, signal.SIGKILL)
            elif now - launch.started > self.max_wall_s:
                self.stop(launch, "killed", f"killed by the MCP server after {now - launch.started:.0f} s: over the workspace "
                                            f"limit mcp.max_wall_s={self.max_wall_s:g} s (raise it in caramba.yml)")
