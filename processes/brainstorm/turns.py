"""Run one turn: one persona, one fresh ADK conversation, tools executed for real.

:class:`TurnRunner` builds the role's ``LlmAgent`` for this turn (its persona, its model,
the shared MCP toolset filtered to its allow-list, and the turn's process tools), runs
it with an ADK ``Runner`` on the turn's message, and returns a :class:`TurnRecord`:
the final text, every tool call with whether it succeeded, and the usage of the turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService
from google.genai import types

from caramba.agents.build import build_agent
from caramba.agents.persona import Persona
from caramba.agents.usage import Usage, UsageMeter
from caramba.processes.brainstorm.prompts import RULES
from caramba.processes.brainstorm.state import ToolCallRecord, TurnRecord

PREVIEW_CHARS = 300


@dataclass
class Speaker:
    """A role's persona and model (a RecordingLlm, so every call is recorded)."""

    persona: Persona
    model: Any
    pricing_model: str | None


@dataclass
class TurnRunner:
    """Runs turns for the session's speakers (see the module docstring)."""

    speakers: dict[str, Speaker]
    toolset: Any
    meter: UsageMeter
    observer: Any

    async def run(self, turn_id: str, role: str, kind: str, round_: int, message: str,
                  process_tools: list[Any], actions: dict[str, Any]) -> TurnRecord:
        """Run ``role``'s turn ``turn_id`` on ``message``; ``actions`` is filled by process tools."""
        speaker = self.speakers[role]
        speaker.model.begin_turn(turn_id)
        agent = build_agent(role, speaker.persona, speaker.model, speaker.pricing_model,
                            [self.toolset, *process_tools], self.meter, self.observer, RULES)
        before = _copy(self.meter.per_agent.get(role))
        runner = Runner(app_name="caramba", agent=agent, session_service=InMemorySessionService(),
                        auto_create_session=True)
        calls: dict[str, ToolCallRecord] = {}
        order: list[ToolCallRecord] = []
        text = ""
        async for event in runner.run_async(user_id="caramba", session_id=turn_id.replace(".", "_"),
                                            new_message=types.Content(role="user", parts=[types.Part(text=message)])):
            for call in event.get_function_calls():
                record = ToolCallRecord(call.name or "", dict(call.args or {}))
                calls[call.id or str(len(order))] = record
                order.append(record)
            for response in event.get_function_responses():
                record = calls.get(response.id or "")
                if record is not None:
                    record.ok, record.preview = _outcome(response.response)
            if event.is_final_response() and event.content and event.content.parts:
                text = "".join(p.text for p in event.content.parts if p.text and not p.thought)
        after = _copy(self.meter.per_agent.get(role))
        return TurnRecord(turn_id, role, speaker.persona.name, kind, round_, text, order,
                          _difference(after, before).to_json(), actions)


def _outcome(response: Any) -> tuple[bool, str]:
    """(ok, preview) of a tool response: MCP results carry ``isError``, process tools ``ok``."""
    if not isinstance(response, dict):
        return True, str(response)[:PREVIEW_CHARS]
    failed = bool(response.get("isError")) or response.get("ok") is False or "error" in response
    shown = response.get("structuredContent", response)
    return not failed, json.dumps(shown, default=str)[:PREVIEW_CHARS]


def _copy(usage: Usage | None) -> Usage:
    copy = Usage()
    if usage is not None:
        copy.add(usage)
    return copy


def _difference(after: Usage, before: Usage) -> Usage:
    return Usage(after.calls - before.calls, after.prompt_tokens - before.prompt_tokens,
                 after.completion_tokens - before.completion_tokens, after.cost_usd - before.cost_usd,
                 after.unpriced_calls - before.unpriced_calls)
