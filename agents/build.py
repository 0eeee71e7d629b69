"""Build an ADK ``LlmAgent`` for one team role from its persona, for one turn.

The agent's name is the role (``architect``, ``moderator``…), so transcripts, tool
filters and usage are all keyed by role; the same persona may fill two roles. The
instruction is passed as a provider so that braces in a persona's text are never taken
for ADK state placeholders.

The tool callbacks (:class:`ToolGate`) are where the session keeps its promises about
tools:

* a call whose arguments were not a JSON object (marked by
  :mod:`caramba.agents.provider`) is not run; the model gets a tool error saying what
  was wrong, so it can call again correctly;
* past the turn's tool-call limit, calls are answered with an error asking for the
  final answer instead of being run;
* an MCP result reaches the model once: its structured content when there is one,
  else its text, and ``{"ok": false, "error": ...}`` for a tool error (ADK would send
  the whole ``CallToolResult``: the text *and* the structured copy);
* every call and its outcome is reported to the observer (the live view, the turn).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from google.adk.agents import LlmAgent
from google.adk.models import BaseLlm
from google.genai import types

from caramba.agents.declarations import compact_declarations
from caramba.agents.persona import Persona
from caramba.agents.provider import INVALID, REASON


class ToolObserver(Protocol):
    """Receives tool activity of agents (the live view and the turn runner implement it)."""

    def tool_started(self, role: str, name: str, args: dict[str, Any]) -> None:
        """Tool ``name`` was called by ``role`` with ``args``."""

    def tool_finished(self, role: str, name: str, ok: bool, result: Any) -> None:
        """Tool ``name`` called by ``role`` returned ``result`` (``ok`` False: it failed)."""


def build_agent(role: str, persona: Persona, model: BaseLlm, tools: list[Any], gate: "ToolGate",
                context: str = "") -> LlmAgent:
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
        before_model_callback=compact_declarations,
        before_tool_callback=gate.before,
        after_tool_callback=gate.after,
    )


def _provider(text: str) -> Callable[[Any], str]:
    def instruction(_context: Any) -> str:
        return text

    return instruction


class ToolGate:
    """The tool callbacks of one agent turn (see the module docstring)."""

    def __init__(self, role: str, observer: ToolObserver, max_calls: int) -> None:
        self.role, self.observer, self.max_calls = role, observer, max_calls
        self.calls = 0

    def before(self, tool: Any, args: dict[str, Any], tool_context: Any) -> dict[str, Any] | None:
        """Run the call (None), or answer it with an error instead."""
        self.observer.tool_started(self.role, tool.name, args)
        if INVALID in args:
            return self._refuse(tool.name, f"{args.get(REASON, 'invalid arguments')}; call {tool.name} again with "
                                           f"its arguments as one JSON object, e.g. {{\"name\": \"value\"}}")
        self.calls += 1
        if self.calls > self.max_calls:
            return self._refuse(tool.name, f"this turn's limit of {self.max_calls} tool calls is reached; "
                                           "give your final answer now without calling tools")
        return None

    def after(self, tool: Any, args: dict[str, Any], tool_context: Any, tool_response: Any) -> dict[str, Any]:
        """The result the model sees (compact, once) and the observer records."""
        compact = compact_result(tool_response)
        self.observer.tool_finished(self.role, tool.name, compact.get("ok") is not False, compact)
        return compact

    @staticmethod
    def _refuse(name: str, error: str) -> dict[str, Any]:
        """The error the model gets instead of running ``name`` (ADK still calls :meth:`after`)."""
        return {"ok": False, "error": error}


def compact_result(response: Any) -> dict[str, Any]:
    """One copy of a tool's result: MCP structured content, else its text; errors as ``ok: false``."""
    if not isinstance(response, dict):
        return {"result": response}
    if "isError" not in response and "structuredContent" not in response:
        return response  # a process tool's own dict
    text = "\n".join(str(p.get("text", "")) for p in response.get("content") or [] if isinstance(p, dict)).strip()
    if response.get("isError"):
        return {"ok": False, "error": text or "the tool reported an error"}
    structured = response.get("structuredContent")
    if isinstance(structured, dict):
        return structured
    return {"result": text}
