"""``RunStore``: the runs of a workspace (``.caramba/runs/<run_id>/``), listed, looked up, cancelled.

The run directories *are* the index: listing reads every ``status.json`` (applying the
liveness rule of ``record.py``), so what ``caramba runs list`` shows is the truth on disk
even after a crash.
"""

from __future__ import annotations

import difflib
import os
import signal
from pathlib import Path

from caramba.engine.store.record import STATUS_FILE, RunRecord


class UnknownRun(LookupError):
    """No run with that id; the message lists the closest ids."""

    def __init__(self, run_id: str, known: list[str]) -> None:
        close = difflib.get_close_matches(run_id, known, n=3, cutoff=0.4)
        prefix = [k for k in known if k.startswith(run_id)]
        hint = f" Did you mean {' or '.join(repr(c) for c in (prefix or close)[:3])}?" if prefix or close else ""
        super().__init__(f"no run {run_id!r} in this workspace.{hint} List them with `caramba runs list`.")
        self.run_id, self.known = run_id, known


class RunStore:
    """The run store of the workspace rooted at ``workspace``."""

    def __init__(self, workspace: Path) -> None:
        self.root = Path(workspace) / ".caramba" / "runs"

    def run_dir(self, run_id: str) -> Path:
        """The directory of ``run_id`` (not created)."""
        return self.root / run_id

    def list(self) -> list[RunRecord]:
        """Every run, oldest start first (queued runs last)."""
        if not self.root.is_dir():
            return []
        records = [RunRecord.load(d) for d in self.root.iterdir() if (d / STATUS_FILE).is_file()]
        return sorted(records, key=lambda r: (r.started is None, r.started or "", r.id))

    def get(self, run_id: str) -> RunRecord:
        """The run ``run_id``; a unique prefix is accepted. Raises :class:`UnknownRun`."""
        if (self.root / run_id / STATUS_FILE).is_file():
            return RunRecord.load(self.root / run_id)
        known = [r.id for r in self.list()]
        matches = [k for k in known if k.startswith(run_id)]
        if len(matches) == 1:
            return RunRecord.load(self.root / matches[0])
        raise UnknownRun(run_id, known)

    def cancel(self, run_id: str) -> RunRecord:
        """Ask a running run to stop: SIGTERM to its process (it checkpoints and marks itself cancelled).

        A queued run (no process yet) is marked cancelled directly; a finished one is left as is.
        """
        record = self.get(run_id)
        if record.status == "running" and record.pid is not None:
            os.kill(record.pid, signal.SIGTERM)
        elif record.status == "queued":
            record.status = "cancelled"
            record.reasons.append("cancelled before it started")
            record.save()
        return record
