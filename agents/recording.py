"""Record every model request/response of a session, and replay a recording exactly.

The session's model wrapper (:class:`caramba.agents.runtime.llm.SessionLlm`) appends one
JSON line per model call to ``recording.jsonl`` in the session's output folder: the
turn id, the role, the call's index in the turn, the pricing, the budget in force, a
digest of the request and the full response; a call the budget refused is recorded as a
``stop`` line. :class:`ReplayLlm` answers from such a file: same turn, same call index →
the recorded response, after checking that the request digest matches (so a replay
that drifts — a different workspace, a changed persona — fails loudly at the first
difference instead of producing a different session). A resumed session appends to
the same file; when a turn was interrupted and re-run, the later lines win.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncGenerator

from google.adk.models import BaseLlm, LlmRequest, LlmResponse
from pydantic import PrivateAttr

from caramba.agents.errors import AgentSetupError, ReplayDiverged


def request_digest(request: LlmRequest) -> str:
    """sha256 of the request's conversation: texts, tool calls and tool results, without
    the random ids ADK gives function calls."""
    items: list[Any] = []
    for content in request.contents:
        parts: list[Any] = []
        for part in content.parts or []:
            if part.function_call is not None:
                parts.append(["call", part.function_call.name, part.function_call.args])
            elif part.function_response is not None:
                parts.append(["result", part.function_response.name, part.function_response.response])
            elif part.text is not None:
                parts.append(["text", part.text])
        items.append([content.role, parts])
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()


class Recorder:
    """Appends lines to a recording file (one JSON object per line, flushed each time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, entry: dict[str, Any]) -> None:
        """Append one entry and flush it to disk."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
            handle.flush()


Key = tuple[str, str, int]  # (role, turn, call index)


@dataclass
class Recording:
    """A read recording: the session header, the calls and the budget stops by key."""

    header: dict[str, Any]
    calls: dict[Key, dict[str, Any]] = field(default_factory=dict)
    stops: dict[Key, dict[str, Any]] = field(default_factory=dict)

    def budget_at(self, key: Key) -> dict[str, Any] | None:
        """The budget in force when call ``key`` was made (or refused), as recorded."""
        entry = self.calls.get(key) or self.stops.get(key)
        return entry.get("budget") if entry is not None else None


def read_recording(path: Path) -> Recording:
    """The session header, the calls and the stops keyed by ``(role, turn, call)`` (later lines win)."""
    if not path.is_file():
        raise AgentSetupError(f"recording {path} does not exist", "pass the recording.jsonl of a previous session")
    header: dict[str, Any] | None = None
    calls: dict[tuple[str, str, int], dict[str, Any]] = {}
    stops: dict[tuple[str, str, int], dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AgentSetupError(f"{path}:{number}: not JSON ({exc.msg})", "a recording has one JSON object per line") from None
        if entry.get("kind") == "session":
            header = header or entry
        elif entry.get("kind") == "call":
            calls[(entry["role"], entry["turn"], entry["call"])] = entry
        elif entry.get("kind") == "stop":
            stops[(entry["role"], entry["turn"], entry["call"])] = entry
    if header is None:
        raise AgentSetupError(f"{path} has no session header line", "record a session with `caramba brainstorm` first")
    return Recording(header, calls, stops)


class ReplayLlm(BaseLlm):
    """Answers one role's requests from a recording (see the module docstring)."""

    model: str = "replay"
    role: str
    recording: Any  # Recording (a dataclass, not a pydantic field type)
    _turn: str = PrivateAttr(default="")

    def budget_at(self, index: int) -> dict[str, Any] | None:
        """The budget recorded for call ``index`` of the current turn."""
        return self.recording.budget_at((self.role, self._turn, index))

    def begin_turn(self, turn_id: str) -> None:
        """Select the recorded turn."""
        self._turn = turn_id

    async def generate_content_async(self, llm_request: LlmRequest, stream: bool = False
                                     ) -> AsyncGenerator[LlmResponse, None]:
        """Answer with the recorded response of this role's call ``index`` of the current turn.

        ``index`` counts the model turns the request already holds; a call the recording
        lacks, or a request that differs from the recorded one, raises ReplayDiverged.
        """
        index = sum(1 for c in llm_request.contents if c.role == "model")
        entry = self.recording.calls.get((self.role, self._turn, index))
        if entry is None:
            raise ReplayDiverged(f"the recording has no call {index} of turn {self._turn!r} for role {self.role!r}",
                                 "replay with the same personas, rounds and workspace as the recorded session")
        if entry["request"] != request_digest(llm_request):
            raise ReplayDiverged(f"replay diverged at role {self.role!r}, turn {self._turn!r}, call {index}: the request "
                                 "differs from the recorded one (a tool returned something else, or a persona changed)",
                                 "replay in the workspace the session was recorded in, with unchanged persona files")
        yield LlmResponse.model_validate(entry["response"])
