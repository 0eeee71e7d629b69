"""How memory is fed: the run store's end-of-run hook, and agent sessions.

:func:`install` registers :func:`record_run` with the engine's end-of-run hooks
(``caramba.engine.store.hooks``), so every run that ends in this process is written to
the workspace's memory (the engine never imports memory). ``caramba run`` installs it
unless ``memory.record_runs: false`` in ``caramba.yml``. A run the memory could not record
(the database is unreachable, say) is reported on stderr and left to ``caramba memory
sync``, which finds it in the run store: the run's own result is never affected.

Agent sessions call :func:`record_session` with their turns, decisions and proposals.
"""

from __future__ import annotations

import atexit
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from caramba.engine.store.record import RunRecord

if TYPE_CHECKING:  # pragma: no cover - typing only (`caramba run` imports this module; Memory loads lazily)
    from caramba.memory.api import Memory

_lock = threading.Lock()
_memories: dict[Path, "Memory"] = {}


def memory_of(workspace: Path) -> "Memory":
    """The process's one open :class:`~caramba.memory.api.Memory` of ``workspace`` (closed at exit)."""
    from caramba.memory.api import Memory

    root = Path(workspace).resolve()
    with _lock:
        if root not in _memories:
            memory = Memory(root)
            _memories[root] = memory
            atexit.register(memory.close)
        return _memories[root]


def install(workspace: Path) -> bool:
    """Record every run that ends in this process in ``workspace``'s memory; False when switched off."""
    from caramba.engine.store.hooks import on_run_end
    from caramba.workspace.config import load_workspace

    if not load_workspace(workspace).memory.record_runs:
        return False
    root = Path(workspace).resolve()

    def record(run: RunRecord) -> None:
        record_run(root, run)

    on_run_end(record)
    return True


def record_run(workspace: Path, run: RunRecord) -> None:
    """Write one finished run to memory; a failure is reported, not raised (the run stands)."""
    from caramba.codegraph.database import DatabaseError
    from caramba.engine.compiler.errors import ManifestInvalid
    from caramba.memory.errors import MemoryUnavailable

    try:
        memory_of(workspace).record_runs([Path(run.dir)])
    except (MemoryUnavailable, DatabaseError, ManifestInvalid, OSError) as error:
        print(f"memory: run {run.id} was not recorded ({error}); `caramba memory sync` will add it", file=sys.stderr)


def record_session(workspace: Path, session_id: str, turns: list[dict[str, str]], kind: str = "transcript") -> dict:
    """Remember an agent session's turns (``{"speaker", "text"}``); ``kind``: transcript, decision or proposal."""
    return memory_of(workspace).record_session(session_id, turns, kind)


def close_all() -> None:
    """Close every memory this process opened through the hooks."""
    with _lock:
        for memory in _memories.values():
            memory.close()
        _memories.clear()
