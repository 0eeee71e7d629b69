"""The checkpoint of a session: ``state.json``, rewritten atomically after every turn.

It holds the process name and config (a resumed session must match them), every
completed turn (text, tool calls with their results, usage, the actions taken through
process tools), the usage so far, the status, and ``data``: whatever the process keeps
(the brainstorm's proposals). A session started again on the same output folder loads
it and continues after the last completed turn; a turn that was interrupted runs again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from caramba.agents.errors import AgentSetupError
from caramba.engine.store.atomic import write_json

STATE_FILE = "state.json"


@dataclass
class ToolCallRecord:
    """One tool call of a turn: name, arguments, whether it succeeded, its result (truncated)."""

    name: str
    args: dict[str, Any]
    ok: bool = True
    result: str = ""


@dataclass
class TurnRecord:
    """One completed turn. ``kind`` and ``round`` are the process's labels; ``note``
    says why a turn ended early (a per-turn limit)."""

    id: str
    role: str
    persona: str
    kind: str
    round: int
    text: str
    tools: list[ToolCallRecord] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TurnRecord":
        """Inverse of ``asdict``."""
        return cls(**{**data, "tools": [ToolCallRecord(**t) for t in data["tools"]]})


@dataclass
class SessionState:
    """The whole checkpoint (see the module docstring)."""

    process: str
    config: dict[str, Any]
    status: str = "running"
    message: str = ""
    turns: list[TurnRecord] = field(default_factory=list)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def turn(self, turn_id: str) -> TurnRecord | None:
        """The completed turn ``turn_id``, if any."""
        return next((t for t in self.turns if t.id == turn_id), None)

    def save(self, folder: Path) -> None:
        """Write ``state.json`` atomically."""
        write_json(folder / STATE_FILE, asdict(self))

    @classmethod
    def open(cls, folder: Path, process: str, config: dict[str, Any]) -> "SessionState":
        """Load the checkpoint in ``folder`` (it must be of the same session) or start one."""
        path = folder / STATE_FILE
        if not path.is_file():
            return cls(process=process, config=config)
        data = json.loads(path.read_text())
        if data.get("process") != process or data["config"] != config:
            raise AgentSetupError(f"{folder} holds a different session ({data.get('process')}: its settings differ)",
                                  "pass another --output folder, or the same settings to resume it")
        return cls(process=process, config=data["config"], status=data["status"], message=data["message"],
                   turns=[TurnRecord.from_json(t) for t in data["turns"]], usage=data["usage"], data=data["data"])
