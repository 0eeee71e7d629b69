"""What the scripted OpenAI-compatible server answers: per role, a queue of responses.

A server script maps each role (the agent name, which ADK writes into every system
message as ``Your internal name is "<role>"``) to the responses that role receives,
in order. A step is one of:

* ``{text: "..."}``: an assistant message (ends an agent's turn);
* ``{call: NAME, args: {...}}`` or ``{calls: [{call, args}, ...]}``: tool calls;
* ``{call: NAME, raw_arguments: '{"broken'}``: a tool call whose arguments are sent
  verbatim (malformed JSON, to test how a process recovers);
* ``{status: 500, body: "..."}``: an HTTP error instead of an answer (429, 500, 503…);
* ``{delay_s: 5, ...}``: wait before answering (longer than the client's timeout, to
  test timeouts); combinable with any of the above.

Every step may carry ``usage: {prompt_tokens, completion_tokens}`` (else the script's
``default_usage``), reported in the response exactly as a provider would. A role whose
queue is empty gets HTTP 500 with a message naming the role, so a test whose script is
short fails loudly instead of hanging.

:func:`from_adk_script` turns a script of the ADK-level scripted model (role → turn →
steps, :mod:`caramba.agents.scripted`) into a server script by queueing each role's
turns in file order, which is the order a process runs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from caramba.agents.scripted import TokenCount, ToolCall, load_script


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerStep(_Strict):
    """One response of the server (see the module docstring)."""

    text: str | None = None
    call: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = Field(default=None, description="sent verbatim as the call's arguments")
    calls: list[ToolCall] | None = None
    status: int | None = Field(default=None, ge=400, le=599, description="answer with this HTTP error")
    body: str = Field(default="scripted error", description="the error's message")
    delay_s: float = Field(default=0.0, ge=0.0, description="seconds to wait before answering")
    usage: TokenCount | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "ServerStep":
        kinds = [k for k in ("text", "call", "calls", "status") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a step is exactly one of text, call, calls, status; got {kinds or 'none'}")
        return self

    def tool_calls(self) -> list[tuple[str, str]]:
        """(name, arguments JSON text) of each tool call of this step."""
        import json

        if self.call is not None:
            return [(self.call, self.raw_arguments if self.raw_arguments is not None else json.dumps(self.args))]
        return [(c.call, json.dumps(c.args)) for c in self.calls or []]


class ServerScript(_Strict):
    """A whole server script: per-role queues of steps."""

    default_usage: TokenCount = Field(default_factory=lambda: TokenCount(prompt_tokens=500, completion_tokens=100))
    roles: dict[str, list[ServerStep]] = Field(default_factory=dict)

    def then(self, role: str, *steps: ServerStep | dict[str, Any], first: bool = False) -> "ServerScript":
        """Add steps to ``role``'s queue (at the front with ``first``); returns self."""
        parsed = [s if isinstance(s, ServerStep) else ServerStep.model_validate(s) for s in steps]
        queue = self.roles.setdefault(role, [])
        self.roles[role] = parsed + queue if first else queue + parsed
        return self


def from_adk_script(path: Path) -> ServerScript:
    """The server script that answers like the ADK-level script at ``path``."""
    script = load_script(path)
    roles: dict[str, list[ServerStep]] = {}
    for role, turns in script.roles.items():
        queue = roles.setdefault(role, [])
        for steps in turns.values():
            for step in steps:
                queue.append(ServerStep(text=step.text, call=step.call, args=step.args, calls=step.calls,
                                        usage=step.usage or script.default_usage))
    return ServerScript(default_usage=script.default_usage, roles=roles)
