"""The agent runtime every process runs on (docs/agents.md, "Write a process").

:class:`AgentSession` (``session``) owns the MCP connection, the team's agents, turns
with per-turn limits, usage and budget, recording/replay, the checkpoint, the live view
and the transcript; a process supplies the order of turns and its own outputs
(:class:`Process`). ``options`` holds what a session is given and returns, ``state``
the checkpoint, ``llm`` the model wrapper (budget, limits, recording), ``turns`` one
turn, ``speakers`` the team's models, ``live`` the live view, ``transcript`` the files.
"""

from caramba.agents.runtime.options import EXIT_CODES, SessionOptions, SessionResult, Status
from caramba.agents.runtime.session import AgentSession, Process, SessionSpec, no_tools
from caramba.agents.runtime.state import SessionState, ToolCallRecord, TurnRecord

__all__ = ["EXIT_CODES", "AgentSession", "Process", "SessionOptions", "SessionResult", "SessionSpec", "SessionState",
           "Status", "ToolCallRecord", "TurnRecord", "no_tools"]
