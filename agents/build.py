"""Build an ADK ``LlmAgent`` for one team role from its persona.

The agent's name is the role (``architect``, ``moderator``…), so transcripts, tool
filters and usage are all keyed by role; the same persona may fill two roles. The
instruction is passed as a provider so that braces in a persona's text are never taken
for ADK state placeholders. Callbacks account usage (:class:`UsageMeter`) and report
tool calls to an observer (the live view).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from google.adk.agents import LlmAgent
from google.adk.models import BaseLlm
from google.genai import types

from caramba.agents.persona import Persona
from caramba.agents.usage import UsageMeter


class ToolObserver(Protocol):
    """Receives tool activity of agents (the live view implements it)."""

    def tool_started(self, role: str, name: str, args: dict[str, Any]) -> None: ...

    def tool_finished(self, role: str, name: str, ok: bool) -> None: ...


def build_agent(role: str, persona: Persona, model: BaseLlm, pricing_model: str | None, tools: list[Any],
                meter: UsageMeter, observer: ToolObserver, context: str = "") -> LlmAgent:
    """An ``LlmAgent`` named ``role`` speaking as ``persona`` through ``model``.

    ``tools`` holds the shared MCP toolset and any process tools of this turn; ``context``
    is appended to the persona's instruction (the process's standing rules).
    """
    instruction = persona.instruction.strip() + (f"\n\n{context.strip()}" if context else "")
    config = types.GenerateContentConfig(temperature=persona.temperature) if persona.temperature is not None else None
    return LlmAgent(
        name=role,
        description=persona.role,
        model=model,
        instruction=_provider(instruction),
        tools=tools,
        output_schema=persona.output_schema,
        generate_content_config=config,
        after_model_callback=meter.callback(role, pricing_model),
        before_tool_callback=_before_tool(role, observer),
        after_tool_callback=_after_tool(role, observer),
    )


def _provider(text: str) -> Callable[[Any], str]:
    def instruction(_context: Any) -> str:
        return text

    return instruction


def _before_tool(role: str, observer: ToolObserver) -> Callable[..., None]:
    def before(tool: Any, args: dict[str, Any], tool_context: Any) -> None:
        observer.tool_started(role, tool.name, args)
        return None

    return before


def _after_tool(role: str, observer: ToolObserver) -> Callable[..., None]:
    def after(tool: Any, args: dict[str, Any], tool_context: Any, tool_response: Any) -> None:
        failed = isinstance(tool_response, dict) and bool(tool_response.get("isError") or tool_response.get("error"))
        observer.tool_finished(role, tool.name, not failed)
        return None

    return after
