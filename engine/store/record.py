"""``RunRecord``: what ``status.json`` says about one run, and the liveness rule.

``status.json`` (written atomically at every change) holds
``{id, target, run, manifest_name, manifest_digest, status, started, finished, pid,
pid_start, step, steps, reasons, artifacts}`` (``pid_start``: the process's start time, so a
reused pid is never mistaken for the run); ``status`` is one of :data:`STATUSES`. A record that says
``running`` while its process is gone (killed, crashed, machine rebooted) is *reported*
as ``failed`` with the reason "process died at step N; run again to resume" — the file
is left as it is, so the next ``caramba run`` resumes from the checkpoints.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from caramba.engine.store.atomic import write_json

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
STATUS_FILE = "status.json"


def pid_alive(pid: int | None) -> bool:
    """True when ``pid`` is a live process on this machine (zombie and dead states count as gone).

    Shared by the run store and the MCP launcher's watchdog.
    """
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.is_file():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False
    return True


def _same_process(pid: int | None, recorded_start: float | None) -> bool:
    """True while the run's own process lives: the pid is alive and, when its start time was
    recorded, still held by the process that started then (not a reused number)."""
    if not pid_alive(pid):
        return False
    if recorded_start is None:
        return True
    from caramba.engine.store.process import start_time

    started = start_time(pid)  # type: ignore[arg-type]
    return started is not None and abs(started - recorded_start) <= 0.01


def _check_types(record: "RunRecord") -> None:
    """Raise ``TypeError`` when ``status.json`` held values of the wrong kind."""
    if record.status not in STATUSES:
        raise TypeError(f"status {record.status!r} is not one of {STATUSES}")
    if not (record.pid is None or type(record.pid) is int) or not isinstance(record.step, int) \
            or not isinstance(record.reasons, list) or not isinstance(record.artifacts, list):
        raise TypeError("pid, step, reasons or artifacts has the wrong type")
    if not (record.pid_start is None or isinstance(record.pid_start, (int, float))):
        raise TypeError("pid_start is not a number")


@dataclass
class RunRecord:
    """One run's status record (see the module docstring); ``dir`` is its run directory."""

    id: str
    target: str
    run: str
    manifest_name: str
    manifest_digest: str
    status: str = "queued"
    started: str | None = None
    finished: str | None = None
    pid: int | None = None
    pid_start: float | None = None
    step: int = 0
    steps: int = 0
    reasons: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    dir: str = ""

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (``dir`` included)."""
        return asdict(self)

    def save(self) -> None:
        """Write ``status.json`` atomically."""
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        write_json(Path(self.dir) / STATUS_FILE, {k: v for k, v in self.to_json().items() if k != "dir"})

    @classmethod
    def load(cls, run_dir: Path) -> "RunRecord":
        """Read ``run_dir/status.json`` and apply the liveness rule. A file that is not a
        status record (hand-edited, damaged) reads as a ``failed`` record that says so, so
        one bad run never hides the others from ``runs list``."""
        try:
            data = json.loads((run_dir / STATUS_FILE).read_text())
            record = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__}, dir=str(run_dir))
            _check_types(record)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            return cls(run_dir.name, "?", "?", "?", "?", status="failed", dir=str(run_dir),
                       reasons=[f"{STATUS_FILE} is unreadable ({type(exc).__name__}: {str(exc)[:120]}); run the manifest "
                                "again to rewrite it"])
        if record.status == "running" and record.pid != os.getpid() and not _same_process(record.pid, record.pid_start):
            record.status = "failed"
            record.reasons = [*record.reasons, f"process died at step {record.step}; run again to resume"]
        return record
