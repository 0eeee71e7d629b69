"""The scripted model: an ADK ``BaseLlm`` that replays a script of tool calls and texts.

It is the one stand-in the test suite uses for an LLM, and a user feature
(``--model script:path/to/script.yml``): rehearse a process, demo it offline, or pin a
discussion down to reproduce a problem. Everything around it is real: ADK executes the
scripted tool calls against the real MCP server and feeds the results back.

A script names, per role (agent name) and per turn id, the model's responses in order::

    price_as: openai/gpt-4o-mini        # optional: price scripted tokens with this model
    default_usage: {prompt_tokens: 500, completion_tokens: 100}
    roles:
      moderator:
        open:
          - call: find_symbol            # one tool call per step (or `calls:` for several)
            args: {name: AttentionLayer}
          - text: "Welcome. Today we ..."  # a text step ends the turn
            usage: {prompt_tokens: 1200, completion_tokens: 240}

Which step answers a request is derived from the request itself (the number of model
turns already in it), so the script never drifts from what ADK actually sent. Usage is
reported as ``usage_metadata``, the field LiteLLM's responses fill, so budgets and costs
go through the same accounting as a hosted model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncGenerator

from google.adk.models import BaseLlm, LlmRequest, LlmResponse
from google.genai import types
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from caramba.agents.errors import ScriptError
from caramba.agents.yamlfile import load_strict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenCount(_Strict):
    """Scripted usage of one model call."""

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)


class ToolCall(_Strict):
    """One scripted function call."""

    call: str = Field(min_length=1, description="tool name")
    args: dict[str, Any] = Field(default_factory=dict)


class Step(_Strict):
    """One model response: a text (ends the turn), a tool call, or several calls."""

    text: str | None = None
    call: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    calls: list[ToolCall] | None = None
    usage: TokenCount | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Step":
        given = [k for k in ("text", "call", "calls") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a step has exactly one of text, call, calls; got {given or 'none'}")
        return self


class Script(_Strict):
    """A whole script (see the module docstring)."""

    price_as: str | None = Field(default=None, description="LiteLLM model whose prices apply to the scripted tokens")
    default_usage: TokenCount = Field(default_factory=TokenCount)
    anchors: dict[str, Any] = Field(default_factory=dict, description="free space for YAML anchors reused in steps")
    roles: dict[str, dict[str, list[Step]]] = Field(description="role → turn id → steps")


def load_script(path: Path) -> Script:
    """Read and validate a script file (errors like a manifest's)."""
    if not path.is_file():
        raise ScriptError(f"script {path} does not exist", "pass --model script:<path to a script .yml>")
    return load_strict(Script, path, "script")


class ScriptedLlm(BaseLlm):
    """Answers one role's requests from a :class:`Script` (see the module docstring)."""

    model: str = "script"
    script: Script
    role: str
    _turn: str | None = PrivateAttr(default=None)

    @property
    def pricing_model(self) -> str | None:
        """The LiteLLM model whose prices apply (``price_as``), or None (cost unknown)."""
        return self.script.price_as

    def begin_turn(self, turn_id: str) -> None:
        """Called by the process before each turn of this role."""
        self._turn = turn_id

    async def generate_content_async(self, llm_request: LlmRequest, stream: bool = False
                                     ) -> AsyncGenerator[LlmResponse, None]:
        """Answer with the script's next step for this role: a text, or tool calls.

        The step is chosen by how many model turns the request already holds.
        """
        step = self._step(sum(1 for c in llm_request.contents if c.role == "model"))
        if step.text is not None:
            parts = [types.Part.from_text(text=step.text)]
        else:
            calls = step.calls if step.calls is not None else [ToolCall(call=step.call or "", args=step.args)]
            parts = [types.Part.from_function_call(name=c.call, args=c.args) for c in calls]
        usage = step.usage or self.script.default_usage
        yield LlmResponse(
            content=types.Content(role="model", parts=parts),
            usage_metadata=types.GenerateContentResponseUsageMetadata(
                prompt_token_count=usage.prompt_tokens, candidates_token_count=usage.completion_tokens,
                total_token_count=usage.prompt_tokens + usage.completion_tokens),
        )

    def _step(self, index: int) -> Step:
        turns = self.script.roles.get(self.role)
        if turns is None:
            raise ScriptError(f"the script has no role {self.role!r}", f"scripted roles: {', '.join(self.script.roles)}")
        if self._turn is None or self._turn not in turns:
            raise ScriptError(f"the script has no turn {self._turn!r} for role {self.role!r}",
                              f"add `{self._turn}:` under roles.{self.role} (scripted turns: {', '.join(turns)})")
        steps = turns[self._turn]
        if index >= len(steps):
            raise ScriptError(f"role {self.role!r}, turn {self._turn!r}: the model was called for step {index + 1} but "
                              f"the script has {len(steps)} step(s)", "end every turn with a `text:` step")
        return steps[index]
