"""The model every agent of a session speaks through: budget, limits, metering, recording.

:class:`SessionLlm` wraps a role's real model (LiteLLM, the scripted model, or a replay)
and, for every call:

1. passes the *inner* model's name on: ADK copies the agent's model name into the
   request, and LiteLLM routes by it, so a wrapper named anything else (the old
   ``recording``) sends LiteLLM a model it cannot route;
2. enforces the turn's model-call limit (:class:`TurnLimitReached` ends the turn);
3. projects the call's cost (the request's prompt tokens, counted with LiteLLM's
   tokenizer, plus ``max_tokens`` of completion) and refuses it with
   :class:`BudgetReached` when that could exceed the budget, recording the refusal;
   a replay checks against the budget recorded at that point, so a session resumed
   with a larger budget replays to the same end;
4. accounts the response's usage (:class:`~caramba.agents.usage.UsageMeter`) and appends
   the call to ``recording.jsonl``.

A stop (budget, provider failure, turn limit, a script or replay that does not cover
the call) ends the turn with an error response and is handed to the turn runner
(:meth:`SessionLlm.take_stop`), which raises it outside ADK.
"""

from __future__ import annotations

import json
from typing import Any, AsyncGenerator

from google.adk.models import BaseLlm, LlmRequest, LlmResponse
from pydantic import PrivateAttr

from caramba.agents.errors import AgentSetupError, BudgetReached, ProviderFailed, TurnLimitReached
from caramba.agents.recording import Recorder, ReplayLlm, request_digest
from caramba.agents.usage import Budget, Pricing, UsageMeter, import_litellm

#: What ends a turn from inside a model call; the turn runner raises it (or notes a limit).
STOPS = (BudgetReached, ProviderFailed, TurnLimitReached, AgentSetupError)
#: The tokenizer every prompt is counted with (bundled with LiteLLM, offline): the count
#: is an estimate for the budget check; other models' tokenizers would be downloaded.
COUNTING_MODEL = "gpt-4o"


class SessionLlm(BaseLlm):
    """One role's model inside a session (see the module docstring)."""

    model: str
    inner: BaseLlm
    role: str
    pricing: Any  # Pricing
    max_tokens: int
    max_calls: int
    _recorder: Recorder | None = PrivateAttr(default=None)
    _meter: UsageMeter | None = PrivateAttr(default=None)
    _turn: str = PrivateAttr(default="")
    _calls: int = PrivateAttr(default=0)
    _stop: Exception | None = PrivateAttr(default=None)

    @classmethod
    def wrap(cls, inner: BaseLlm, role: str, pricing: Pricing, max_tokens: int, max_calls: int,
             recorder: Recorder, meter: UsageMeter) -> "SessionLlm":
        """Wrap ``inner`` for ``role``, recording to ``recorder`` and metering into ``meter``."""
        wrapped = cls(model=inner.model, inner=inner, role=role, pricing=pricing, max_tokens=max_tokens,
                      max_calls=max_calls)
        wrapped._recorder, wrapped._meter = recorder, meter
        return wrapped

    def begin_turn(self, turn_id: str) -> None:
        """Start counting a new turn (and tell a turn-aware inner model)."""
        self._turn, self._calls = turn_id, 0
        if hasattr(self.inner, "begin_turn"):
            self.inner.begin_turn(turn_id)

    async def generate_content_async(self, llm_request: LlmRequest, stream: bool = False
                                     ) -> AsyncGenerator[LlmResponse, None]:
        """Ask the inner model, counting calls and cost against the budget of the current turn."""
        try:
            async for response in self._generate(llm_request, stream):
                yield response
        except STOPS as stop:
            # Hand the stop to the turn runner instead of raising it through ADK, which
            # would log it with a traceback and wrap it; the turn ends on this response.
            self._stop = stop
            yield LlmResponse(error_code="CARAMBA_STOP", error_message=str(stop))

    def take_stop(self) -> Exception | None:
        """The stop that ended the current turn's last call (once), or None."""
        stop, self._stop = self._stop, None
        return stop

    async def _generate(self, llm_request: LlmRequest, stream: bool) -> AsyncGenerator[LlmResponse, None]:
        meter, recorder = self._meter, self._recorder
        if meter is None or recorder is None:
            raise RuntimeError("SessionLlm.wrap() attaches the meter and recorder")
        index = sum(1 for c in llm_request.contents if c.role == "model")
        self._calls += 1
        if self._calls > self.max_calls:
            raise TurnLimitReached(f"the turn reached its limit of {self.max_calls} model calls (llm.turn.model_calls)")
        llm_request.model = self.inner.model
        if isinstance(self.inner, ReplayLlm):
            recorded = self.inner.budget_at(index)
            if recorded is not None:
                meter.budget = Budget(recorded.get("usd"), recorded.get("tokens"))
        key = {"role": self.role, "turn": self._turn, "call": index, "budget": meter.budget.to_json()}
        try:
            meter.check(self.role, self.pricing, prompt_tokens(llm_request), self.max_tokens)
        except BudgetReached as stop:
            recorder.append({"kind": "stop", **key, "reason": str(stop)})
            raise
        digest = request_digest(llm_request)
        async for response in self.inner.generate_content_async(llm_request, stream):
            if not response.partial:
                meta = response.usage_metadata
                if meta is not None:
                    meter.record(self.role, self.pricing, meta.prompt_token_count or 0, meta.candidates_token_count or 0)
                recorder.append({"kind": "call", **key, "pricing": self.pricing.to_json(), "request": digest,
                                 "response": response.model_dump(mode="json", exclude_none=True)})
            yield response


def prompt_tokens(request: LlmRequest) -> int:
    """Tokens of everything the request sends: instruction, conversation, tool declarations."""
    pieces: list[str] = []
    config = request.config
    if config is not None and config.system_instruction is not None:
        pieces.append(str(config.system_instruction))
    for content in request.contents:
        for part in content.parts or []:
            if part.text:
                pieces.append(part.text)
            elif part.function_call is not None:
                pieces.append(json.dumps([part.function_call.name, part.function_call.args], default=str))
            elif part.function_response is not None:
                pieces.append(json.dumps(part.function_response.response, default=str))
    for tool in (config.tools if config is not None else None) or []:
        for declaration in getattr(tool, "function_declarations", None) or []:
            pieces.append(declaration.model_dump_json(exclude_none=True))
    return int(import_litellm().token_counter(model=COUNTING_MODEL, text="\n".join(pieces)))
