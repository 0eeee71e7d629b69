"""Run one turn: one persona, one fresh ADK conversation, tools executed for real.

:class:`TurnRunner` builds the role's ``LlmAgent`` for this turn (its persona, its
session model, the shared MCP toolset filtered to its allow-list, and the turn's process
tools), runs it with an ADK ``Runner`` on the turn's message, and returns a
:class:`TurnRecord`: the final text, every tool call with its outcome and (truncated)
result, and the turn's usage. Per-turn limits (``llm.turn`` in ``caramba.yml``): model
calls (the session model raises :class:`TurnLimitReached`), tool calls (the tool gate
answers further calls with an error) and wall time; a turn that reaches one ends there
with a ``note`` saying which, and the session goes on.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService
from google.genai import types

from caramba.agents.build import ToolGate, build_agent
from caramba.agents.errors import TurnLimitReached
from caramba.agents.persona import Persona
from caramba.agents.runtime.state import ToolCallRecord, TurnRecord
from caramba.agents.usage import Usage, UsageMeter
from caramba.workspace.config import TurnLimits

#: Characters of a tool result kept in the transcript.
RESULT_CHARS = 600


@dataclass
class Speaker:
    """A role's persona and its session model (:class:`~caramba.agents.runtime.llm.SessionLlm`)."""

    persona: Persona
    model: Any


class _TurnLog:
    """Collects one turn's tool calls in order, and forwards them to the session observer."""

    def __init__(self, observer: Any) -> None:
        self.observer = observer
        self.calls: list[ToolCallRecord] = []
        self.open: list[ToolCallRecord] = []

    def tool_started(self, role: str, name: str, args: dict[str, Any]) -> None:
        record = ToolCallRecord(name, dict(args))
        self.calls.append(record)
        self.open.append(record)
        self.observer.tool_started(role, name, args)

    def tool_finished(self, role: str, name: str, ok: bool, result: Any) -> None:
        record = next((r for r in self.open if r.name == name), None)
        if record is not None:
            self.open.remove(record)
            record.ok, record.result = ok, truncate(result)
        self.observer.tool_finished(role, name, ok, result)


@dataclass
class TurnRunner:
    """Runs turns for the session's speakers (see the module docstring)."""

    speakers: dict[str, Speaker]
    toolset: Any
    meter: UsageMeter
    observer: Any
    limits: TurnLimits
    rules: str = ""

    async def run(self, turn_id: str, role: str, kind: str, round_: int, message: str,
                  process_tools: list[Any], actions: dict[str, Any]) -> TurnRecord:
        """Run ``role``'s turn ``turn_id`` on ``message``; ``actions`` is filled by process tools."""
        speaker = self.speakers[role]
        speaker.model.begin_turn(turn_id)
        log = _TurnLog(self.observer)
        agent = build_agent(role, speaker.persona, speaker.model, [self.toolset, *process_tools],
                            ToolGate(role, log, self.limits.tool_calls), self.rules)
        before = _copy(self.meter.per_agent.get(role))
        runner = Runner(app_name="caramba", agent=agent, session_service=InMemorySessionService(),
                        auto_create_session=True)
        text, note = "", ""
        content = types.Content(role="user", parts=[types.Part(text=message)])
        try:
            async with asyncio.timeout(self.limits.wall_s):
                async for event in runner.run_async(user_id="caramba", session_id=turn_id.replace(".", "_"),
                                                    new_message=content):
                    if event.is_final_response() and event.content and event.content.parts:
                        text = "".join(p.text for p in event.content.parts if p.text and not p.thought)
        except TimeoutError:
            note = f"the turn reached its limit of {self.limits.wall_s:g} s (llm.turn.wall_s)"
        stop = speaker.model.take_stop()
        if isinstance(stop, TurnLimitReached):
            note = str(stop)
        elif stop is not None:
            raise stop
        usage = _difference(_copy(self.meter.per_agent.get(role)), before)
        return TurnRecord(turn_id, role, speaker.persona.name, kind, round_, text, log.calls, usage.to_json(),
                          actions, note)


def truncate(result: Any, limit: int = RESULT_CHARS) -> str:
    """A tool result as compact JSON, cut at ``limit`` characters with a marker."""
    text = result if isinstance(result, str) else json.dumps(result, default=str, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} chars)"


def _copy(usage: Usage | None) -> Usage:
    copy = Usage()
    if usage is not None:
        copy.add(usage)
    return copy


def _difference(after: Usage, before: Usage) -> Usage:
    return Usage(after.calls - before.calls, after.prompt_tokens - before.prompt_tokens,
                 after.completion_tokens - before.completion_tokens, after.cost_usd - before.cost_usd,
                 after.unpriced_calls - before.unpriced_calls)
