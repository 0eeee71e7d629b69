"""How caramba calls LiteLLM: retries with backoff, clean failures, repairable tool calls.

:class:`ProviderClient` is the ``llm_client`` of every ``LiteLlm`` caramba builds, so it
sits exactly where ADK calls ``litellm.acompletion``. It

* turns LiteLLM's own retries off (``num_retries=0``, and the OpenAI SDK's
  ``max_retries=0``) and retries itself: on 429, 5xx, connection errors and timeouts,
  ``retries`` times with exponential backoff (``backoff_s``, doubling, capped at 60 s,
  honouring a provider's ``Retry-After``). LiteLLM's built-in retry does not fit: it
  retries 5xx at once with no wait and retries authentication errors too;
* after the last retry, or at once for errors a retry cannot fix (401, 403, 404,
  400), raises :class:`~caramba.agents.errors.ProviderFailed` naming the provider, the
  status and what to do, which the session turns into a clean, resumable stop;
* checks every tool call's arguments: arguments that are not a JSON object are replaced
  by ``{"__invalid_arguments__": <the raw text>, "__error__": <why>}``, so the call still
  reaches ADK, the agent's tool callback answers it with a tool error the model can
  correct (see :mod:`caramba.agents.build`), and the transcript records it. ADK alone
  would drop such a call and end the turn silently.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from google.adk.models.lite_llm import LiteLLMClient

from caramba.agents.errors import ProviderFailed

INVALID = "__invalid_arguments__"
REASON = "__error__"
MAX_BACKOFF_S = 60.0
RAW_CHARS = 2000
#: LiteLLM's exception-name prefixes before a provider's own message.
NOISE = re.compile(r"^(litellm\.\w+:\s*)?(\w+Error:\s*)?(\w+Exception - )?")


class ProviderClient(LiteLLMClient):
    """LiteLLM with caramba's retry and failure policy (see the module docstring)."""

    def __init__(self, model: str, retries: int, backoff_s: float) -> None:
        self.model, self.retries, self.backoff_s = model, retries, backoff_s

    async def acompletion(self, model: Any, messages: Any, tools: Any, **kwargs: Any) -> Any:
        """``litellm.acompletion`` with retries; raises ProviderFailed when it gives up."""
        import litellm
        import openai

        kwargs.update(num_retries=0, max_retries=0)
        attempt = 0
        while True:
            try:
                response = await litellm.acompletion(model=model, messages=messages, tools=tools, **kwargs)
            except openai.OpenAIError as exc:  # every LiteLLM provider error derives from the SDK's base
                status, retryable = classify(exc)
                if not retryable or attempt >= self.retries:
                    raise failure(self.model, exc, status, attempt) from None
                await asyncio.sleep(self.delay(attempt, exc))
                attempt += 1
                continue
            return repair_tool_calls(response)

    def delay(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry ``attempt + 1``: the provider's Retry-After, else backoff."""
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        after = headers.get("retry-after") if hasattr(headers, "get") else None
        if after is not None:
            try:
                return min(float(after), MAX_BACKOFF_S)
            except ValueError:
                pass  # an HTTP date: use our own backoff
        return min(self.backoff_s * 2 ** attempt, MAX_BACKOFF_S)


def classify(exc: Exception) -> tuple[int | None, bool]:
    """(HTTP status or None, whether a retry can help)."""
    import litellm

    status = getattr(exc, "status_code", None)
    if isinstance(exc, (litellm.exceptions.Timeout, litellm.exceptions.APIConnectionError)):
        return status if isinstance(status, int) else None, True
    if isinstance(status, int):
        return status, status == 429 or status >= 500
    return None, False


def failure(model: str, exc: Exception, status: int | None, retries: int) -> ProviderFailed:
    """The one clear message for a call that failed for good."""
    import litellm

    provider = getattr(exc, "llm_provider", None) or model.split("/", 1)[0]
    detail = NOISE.sub("", str(getattr(exc, "message", exc)).splitlines()[0])[:300]
    tried = f" after {retries + 1} attempts" if retries else ""
    if isinstance(exc, litellm.exceptions.Timeout):
        what, hint = "timed out", "the server is slow or down: raise llm.timeout_s in caramba.yml, or check the server"
    elif status in (401, 403):
        what, hint = f"refused the key (HTTP {status})", ("check the API key: the provider's variable "
                                                          "(e.g. OPENAI_API_KEY) or the one named by api_key_env")
    elif status == 404:
        what, hint = "does not know the model (HTTP 404)", "check the model name after the provider prefix and --api-base"
    elif status == 429:
        what, hint = "kept rate-limiting (HTTP 429)", "wait, or lower the request rate (llm.retries, llm.backoff_s)"
    elif status is not None and status >= 500:
        what, hint = f"kept failing (HTTP {status})", "the provider has a problem; try again later"
    elif status is None:
        what, hint = "could not be reached", "check --api-base and the network"
    else:
        what, hint = f"rejected the request (HTTP {status})", "see the provider's message and fix the settings"
    return ProviderFailed(f"model provider {provider} ({model}) {what}{tried}: {detail}",
                          f"{hint}; the session is checkpointed: run the same command again to resume it")


def repair_tool_calls(response: Any) -> Any:
    """Mark tool calls whose arguments are not a JSON object (see the module docstring)."""
    for choice in getattr(response, "choices", None) or []:
        message = getattr(choice, "message", None)
        for call in getattr(message, "tool_calls", None) or []:
            raw = call.function.arguments
            if not isinstance(raw, str) or not raw.strip():
                continue
            try:
                value = json.loads(raw)
                reason = None if isinstance(value, dict) else f"the arguments are JSON {type(value).__name__}, not an object"
            except json.JSONDecodeError as exc:
                reason = f"the arguments are not valid JSON ({exc.msg} at character {exc.pos})"
            if reason is not None:
                call.function.arguments = json.dumps({INVALID: raw[:RAW_CHARS], REASON: reason})
    return response
