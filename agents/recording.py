"""Record every model request/response of a session, and replay a recording exactly.

:class:`RecordingLlm` wraps whatever model a role uses and appends one JSON line per
model call to ``recording.jsonl`` in the session's output folder: the turn id, the role,
the call's index in the turn, the pricing model, a digest of the request and the full
response. :class:`ReplayLlm` answers from such a file: same turn, same call index →
the recorded response, after checking that the request digest matches (so a replay
that drifts — a different workspace, a changed persona — fails loudly at the first
difference instead of producing a different session). A resumed session appends to
the same file; when a turn was interrupted and re-run, the later lines win.
"""

from __future__ import annotations

import hashlib
import json
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


def read_recording(path: Path) -> tuple[dict[str, Any], dict[tuple[str, str, int], dict[str, Any]]]:
    """The session header and the calls keyed by ``(role, turn, call)`` (later lines win)."""
    if not path.is_file():
        raise AgentSetupError(f"recording {path} does not exist", "pass the recording.jsonl of a previous session")
    header: dict[str, Any] | None = None
    calls: dict[tuple[str, str, int], dict[str, Any]] = {}
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
    if header is None:
        raise AgentSetupError(f"{path} has no session header line", "record a session with `caramba brainstorm` first")
    return header, calls


class RecordingLlm(BaseLlm):
    """Passes requests to ``inner`` and records each non-partial response."""

    model: str = "recording"
    inner: BaseLlm
    role: str
    pricing: str | None = None
    _recorder: Recorder | None = PrivateAttr(default=None)
    _turn: str = PrivateAttr(default="")

    def attach(self, recorder: Recorder) -> "RecordingLlm":
        """Set the file this model records to (returns self)."""
        self._recorder = recorder
        return self

    @property
    def pricing_model(self) -> str | None:
        """The LiteLLM model whose prices apply to this role's usage."""
        return self.pricing

    def begin_turn(self, turn_id: str) -> None:
        """Remember the turn (for the record) and tell a turn-aware inner model."""
        self._turn = turn_id
        if hasattr(self.inner, "begin_turn"):
            self.inner.begin_turn(turn_id)

    async def generate_content_async(self, llm_request: LlmRequest, stream: bool = False
                                     ) -> AsyncGenerator[LlmResponse, None]:
        index = sum(1 for c in llm_request.contents if c.role == "model")
        digest = request_digest(llm_request)
        async for response in self.inner.generate_content_async(llm_request, stream):
            if not response.partial and self._recorder is not None:
                self._recorder.append({"kind": "call", "role": self.role, "turn": self._turn, "call": index,
                                       "model": self.pricing, "request": digest,
                                       "response": response.model_dump(mode="json", exclude_none=True)})
            yield response


class ReplayLlm(BaseLlm):
    """Answers one role's requests from a recording (see the module docstring)."""

    model: str = "replay"
    role: str
    calls: dict[tuple[str, str, int], dict[str, Any]]
    pricing: str | None = None
    _turn: str = PrivateAttr(default="")

    @property
    def pricing_model(self) -> str | None:
        """The pricing model recorded for this role."""
        return self.pricing

    def begin_turn(self, turn_id: str) -> None:
        """Select the recorded turn."""
        self._turn = turn_id

    async def generate_content_async(self, llm_request: LlmRequest, stream: bool = False
                                     ) -> AsyncGenerator[LlmResponse, None]:
        index = sum(1 for c in llm_request.contents if c.role == "model")
        entry = self.calls.get((self.role, self._turn, index))
        if entry is None:
            raise ReplayDiverged(f"the recording has no call {index} of turn {self._turn!r} for role {self.role!r}",
                                 "replay with the same personas, rounds and workspace as the recorded session")
        if entry["request"] != request_digest(llm_request):
            raise ReplayDiverged(f"replay diverged at role {self.role!r}, turn {self._turn!r}, call {index}: the request "
                                 "differs from the recorded one (a tool returned something else, or a persona changed)",
                                 "replay in the workspace the session was recorded in, with unchanged persona files")
        yield LlmResponse.model_validate(entry["response"])
