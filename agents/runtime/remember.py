"""Feeding a finished agent session to the knowledge memory.

When :meth:`AgentSession.run` ends (after its transcript is written), :func:`remember`
writes the session to the workspace's memory through
:func:`caramba.memory.hook.record_session`, in three parts:

* ``transcript``: every turn, spoken by its role (``[session turn n] role: text``);
* ``decision``: the moderator's summaries and closing turns (turn kinds ``summary`` and
  ``close``), so "what did the group decide about X?" finds them first;
* ``proposal``: the experiments the process proposed (``state.data["proposals"]``: name,
  author, hypothesis, what would refute it, status);
* any further kind a process lists in ``state.data["remember"]`` (kind → ``{"speaker", "text"}``
  list), e.g. the paper's ``claim`` and ``review`` chunks.

The session id is ``<process>/<output folder name>``: a resumed session rewrites only what
changed (the chunks are keyed by session and turn). ``memory.record_sessions: false`` in
``caramba.yml`` switches this off. A memory that cannot be written (database unreachable,
embedder missing…) is reported on stderr; the session's own result never depends on it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from caramba.agents.runtime.state import SessionState

DECISION_KINDS = frozenset({"summary", "close"})


def session_id(process: str, folder: Path) -> str:
    """The id a session is remembered under: ``<process>/<output folder name>``."""
    return f"{process}/{folder.name}"


def parts(state: SessionState) -> dict[str, list[dict[str, str]]]:
    """The session's turns, decisions and proposals as ``{"speaker", "text"}`` lists (by kind)."""
    turns = [{"speaker": t.role, "text": t.text} for t in state.turns]
    decisions = [{"speaker": t.role, "text": t.text} for t in state.turns if t.kind in DECISION_KINDS]
    proposals: list[dict[str, Any]] = state.data.get("proposals", []) if isinstance(state.data, dict) else []
    proposed = [{"speaker": str(p.get("author", "")),
                 "text": (f"proposal {p.get('name', '?')} ({p.get('status', '?')}): {p.get('hypothesis', '')}"
                          f" Refuted if: {p.get('refuted_if', '')}")} for p in proposals]
    extra: dict[str, list[dict[str, str]]] = state.data.get("remember", {}) if isinstance(state.data, dict) else {}
    return {"transcript": turns, "decision": decisions, "proposal": proposed, **extra}


def remember(workspace: Path, process: str, folder: Path, state: SessionState) -> int | None:
    """Write the session to ``workspace``'s memory; the number of chunks written, None when off or failed."""
    from caramba.codegraph.database import DatabaseError
    from caramba.memory.errors import MemoryUnavailable
    from caramba.workspace.config import load_workspace

    if not load_workspace(workspace).memory.record_sessions or not state.turns:
        return None
    from caramba.memory.hook import record_session

    key = session_id(process, folder)
    try:
        return sum(record_session(workspace, key, turns, kind)["written"]
                   for kind, turns in parts(state).items() if turns)
    except (MemoryUnavailable, DatabaseError, OSError) as error:
        print(f"memory: session {key} was not recorded ({error}); its transcript is in {folder}", file=sys.stderr)
        return None
