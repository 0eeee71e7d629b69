"""``RunStore``: the runs of a workspace (``.caramba/runs/<run_id>/``), listed, looked up, cancelled.

The run directories *are* the index: listing reads every ``status.json`` (applying the
liveness rule of ``record.py``), so what ``caramba runs list`` shows is the truth on disk
even after a crash.

A run id is a *name*, never a path: it must match :data:`RUN_ID` (letters, digits,
``_ . -``, no ``..``, at most 200 characters), and :meth:`RunStore.get` answers only
with a directory the index lists — an id is compared with the listed names, never
joined onto a path first. So ``../../x`` is refused before the file system is touched,
an empty id matches nothing (not "every run, by prefix"), and every write of the store
stays inside ``.caramba/runs/``. :meth:`RunStore.cancel` signals a process only after
``caramba.engine.store.process`` confirmed it is this workspace's run process.
"""

from __future__ import annotations

import difflib
import re
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from caramba.engine.store.record import STATUS_FILE, RunRecord

if TYPE_CHECKING:
    from filelock import FileLock

#: What a run id looks like: ``<target>-<run>-<hash8>`` built from manifest names.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")


class UnknownRun(LookupError):
    """No run with that id; the message lists the closest ids."""

    def __init__(self, run_id: str, known: list[str]) -> None:
        close = difflib.get_close_matches(run_id, known, n=3, cutoff=0.4)
        prefix = [k for k in known if k.startswith(run_id)]
        hint = f" Did you mean {' or '.join(repr(c) for c in (prefix or close)[:3])}?" if prefix or close else ""
        super().__init__(f"no run {run_id!r} in this workspace.{hint} List them with `caramba runs list`.")
        self.run_id, self.known = run_id, known


class InvalidRunId(UnknownRun):
    """A run id that is not a name (empty, a path, odd characters): refused unread."""

    def __init__(self, run_id: str) -> None:
        LookupError.__init__(self, f"{run_id[:80]!r} is not a run id: ids are names of letters, digits and _ . - "
                                   "(like tiny-train-1a2b3c4d), never paths. List them with `caramba runs list`.")
        self.run_id, self.known = run_id, []


def check_run_id(run_id: str) -> str:
    """``run_id`` when it is a well-formed name (:data:`RUN_ID`, no ``..``); else :class:`InvalidRunId`."""
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise InvalidRunId(str(run_id))
    return run_id


class RunStore:
    """The run store of the workspace rooted at ``workspace``."""

    def __init__(self, workspace: Path) -> None:
        self.root = Path(workspace) / ".caramba" / "runs"

    def run_dir(self, run_id: str) -> Path:
        """The directory of ``run_id`` (not created); the id must be a name (:func:`check_run_id`)."""
        return self.root / check_run_id(run_id)

    def lock(self, timeout_s: float = 60.0) -> "FileLock":
        """An inter-process lock of the store (``.caramba/runs/.lock``): who checks a limit and
        then starts a run holds it across both, so servers sharing a workspace cannot both
        pass the check (``mcp.max_concurrent_runs``)."""
        from filelock import FileLock

        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(self.root / ".lock", timeout=timeout_s)

    def names(self) -> list[str]:
        """The index: names of the run directories that hold a ``status.json`` (real folders, not links)."""
        if not self.root.is_dir():
            return []
        return sorted(d.name for d in self.root.iterdir()
                      if RUN_ID.fullmatch(d.name) and d.is_dir() and not d.is_symlink() and (d / STATUS_FILE).is_file())

    def list(self) -> list[RunRecord]:
        """Every run, oldest start first (queued runs last)."""
        records = [RunRecord.load(self.root / name) for name in self.names()]
        return sorted(records, key=lambda r: (r.started is None, r.started or "", r.id))

    def get(self, run_id: str) -> RunRecord:
        """The run ``run_id``; a unique prefix is accepted. Raises :class:`UnknownRun`
        (:class:`InvalidRunId` for something that is not a name)."""
        check_run_id(run_id)
        known = self.names()
        matches = [run_id] if run_id in known else [k for k in known if k.startswith(run_id)]
        if len(matches) == 1:
            return RunRecord.load(self.root / matches[0])
        raise UnknownRun(run_id, known)

    def cancel(self, run_id: str) -> RunRecord:
        """Ask a running run to stop: SIGTERM to its process (it checkpoints and marks itself cancelled).

        The process is signalled only when it is verifiably this workspace's run process
        (:func:`caramba.engine.store.process.verify_run_process`; a foreign one raises
        ``ForeignProcess``). A queued run (no process yet) is marked cancelled directly; a
        finished one is left as is.
        """
        from caramba.engine.store.process import signal_run_process

        record = self.get(run_id)
        if record.status == "running" and record.pid is not None:
            try:
                signal_run_process(record.pid, record.pid_start, self.root.parent.parent, signal.SIGTERM)
            except ProcessLookupError:
                pass  # it ended between the read and the signal: its record says how
        elif record.status == "queued":
            record.status = "cancelled"
            record.reasons.append("cancelled before it started")
            record.save()
        return record
