"""The checkpoint of a brainstorm: ``state.json``, rewritten atomically after every turn.

It holds the session's config, every completed turn (text, tool calls, usage, the
actions taken through process tools), the proposals and their manifests, the usage so
far and the status. A session started again on the same output folder loads it and
continues after the last completed turn; a turn that was interrupted is run again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from caramba.agents.errors import AgentSetupError
from caramba.engine.store.atomic import write_json
from caramba.processes.brainstorm.config import BrainstormConfig

STATE_FILE = "state.json"


@dataclass
class ToolCallRecord:
    """One tool call of a turn: name, arguments, whether it succeeded, a short preview."""

    name: str
    args: dict[str, Any]
    ok: bool = True
    preview: str = ""


@dataclass
class TurnRecord:
    """One completed turn."""

    id: str
    role: str
    persona: str
    kind: str  # open | contribution | summary | close | manifest
    round: int
    text: str
    tools: list[ToolCallRecord] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TurnRecord":
        """Inverse of ``asdict``."""
        return cls(**{**data, "tools": [ToolCallRecord(**t) for t in data["tools"]]})


@dataclass
class Proposal:
    """One proposed experiment and what became of its manifest."""

    index: int
    name: str
    author: str
    hypothesis: str
    refuted_if: str
    status: str = "pending"  # pending | valid | failed
    attempts: int = 0
    manifest: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    dry_run: list[dict[str, Any]] = field(default_factory=list)
    file: str | None = None
    reason: str = ""


@dataclass
class SessionState:
    """The whole checkpoint (see the module docstring)."""

    config: dict[str, Any]
    status: str = "running"  # running | completed | stopped_budget
    message: str = ""
    turns: list[TurnRecord] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)

    def turn(self, turn_id: str) -> TurnRecord | None:
        """The completed turn ``turn_id``, if any."""
        return next((t for t in self.turns if t.id == turn_id), None)

    def save(self, folder: Path) -> None:
        """Write ``state.json`` atomically."""
        write_json(folder / STATE_FILE, asdict(self))

    @classmethod
    def open(cls, folder: Path, config: BrainstormConfig) -> "SessionState":
        """Load the checkpoint in ``folder`` (it must be of the same session) or start one."""
        path = folder / STATE_FILE
        if not path.is_file():
            return cls(config=config.to_json())
        data = json.loads(path.read_text())
        if data["config"] != config.to_json():
            raise AgentSetupError(f"{folder} holds a different session (topic, team or rounds differ)",
                                  "pass another --output folder, or the same settings to resume it")
        return cls(config=data["config"], status=data["status"], message=data["message"],
                   turns=[TurnRecord.from_json(t) for t in data["turns"]],
                   proposals=[Proposal(**p) for p in data["proposals"]], usage=data["usage"])
