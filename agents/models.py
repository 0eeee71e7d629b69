"""Which model a persona speaks through: LiteLLM for real models, or a script.

Precedence (the first that is set wins), each model paired with the ``api_base``,
``api_key_env`` and ``price_per_mtok`` given at the same level:

1. ``--model`` (or a process target's ``process.model``): overrides every persona;
2. the persona file's ``model``;
3. the workspace default, ``llm.model`` in ``caramba.yml``.

Model strings are LiteLLM's ``provider/model`` (``openai/gpt-4o-mini``,
``anthropic/claude-sonnet-4-5``, ``gemini/gemini-2.5-flash``, ``ollama_chat/llama3.1``,
``openai/<name>`` with an ``api_base`` for any OpenAI-compatible server), or
``script:<path>`` for the scripted model (:mod:`caramba.agents.scripted`). A bare name
such as ``gpt-4o`` is refused: ADK would send it to a native integration instead of
LiteLLM, and the provider prefix makes the choice explicit.

API keys: ``api_key_env`` names the environment variable that holds the key (the key
itself is never written in a file); without it LiteLLM's own variables apply
(``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``…). A missing key is reported when the session
starts, before any model is called. How calls are made (``max_tokens``, timeout,
retries) comes from ``llm:`` in ``caramba.yml`` (:class:`~caramba.workspace.config.LlmSettings`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from google.adk.models import BaseLlm

from caramba.agents.errors import AgentSetupError, ModelNotConfigured
from caramba.agents.persona import Persona
from caramba.agents.scripted import ScriptedLlm, load_script
from caramba.agents.usage import Pricing, import_litellm
from caramba.workspace.config import LlmSettings

SCRIPT_PREFIX = "script:"

HOW_TO_CONFIGURE = ("configure a model: pass --model provider/model (e.g. openai/gpt-4o-mini, "
                    "anthropic/claude-sonnet-4-5, ollama_chat/llama3.1), or set `llm: {model: ...}` in caramba.yml, "
                    "or `model:` in the persona file; to rehearse without an LLM use --model script:<script.yml> "
                    "(docs/agents.md)")


@dataclass(frozen=True)
class ModelChoice:
    """A resolved model string, its server, key variable and price, and where the choice came from."""

    model: str
    api_base: str | None
    source: str
    api_key_env: str | None = None
    price_per_mtok: tuple[float, float] | None = None


@dataclass(frozen=True)
class Override:
    """What a command or process target imposes on every persona (all optional)."""

    model: str | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    price_per_mtok: tuple[float, float] | None = None


def choose_model(persona: Persona, override: Override | str | None, override_api_base: str | None,
                 workspace_llm: LlmSettings) -> ModelChoice:
    """Apply the precedence of the module docstring; raise ModelNotConfigured when nothing is set.

    An explicit price (``override.price_per_mtok``, e.g. ``--price-per-mtok``) applies
    whichever model is chosen.
    """
    if not isinstance(override, Override):
        override = Override(override, override_api_base)
    if override.model:
        choice = ModelChoice(override.model, override.api_base, "--model", override.api_key_env)
    elif persona.model:
        choice = ModelChoice(persona.model, persona.api_base, f"persona {persona.name}", persona.api_key_env,
                             persona.price_per_mtok)
    elif workspace_llm.model:
        choice = ModelChoice(workspace_llm.model, workspace_llm.api_base, "caramba.yml llm.model",
                             workspace_llm.api_key_env, workspace_llm.price_per_mtok)
    else:
        raise ModelNotConfigured(f"no model is configured for persona {persona.name!r}", HOW_TO_CONFIGURE)
    price = override.price_per_mtok or choice.price_per_mtok
    return ModelChoice(choice.model, choice.api_base, choice.source, choice.api_key_env, price)


def build_model(choice: ModelChoice, role: str, workspace: Path, settings: LlmSettings | None = None
                ) -> tuple[BaseLlm, Pricing]:
    """The ADK model for ``choice`` and how its usage is priced."""
    if choice.model.startswith(SCRIPT_PREFIX):
        script = load_script((workspace / choice.model.removeprefix(SCRIPT_PREFIX)).resolve())
        return ScriptedLlm(model=choice.model, script=script, role=role), Pricing(script.price_as, choice.price_per_mtok)
    if "/" not in choice.model:
        raise AgentSetupError(f"model {choice.model!r} (from {choice.source}) has no provider prefix",
                              f"write it as provider/model for LiteLLM, e.g. openai/{choice.model} or "
                              f"anthropic/{choice.model}; {HOW_TO_CONFIGURE}")
    from google.adk.models.lite_llm import LiteLlm

    from caramba.agents.provider import ProviderClient

    settings = settings or LlmSettings()
    kwargs: dict[str, object] = {"max_tokens": settings.max_tokens, "timeout": settings.timeout_s}
    if choice.api_base:
        kwargs["api_base"] = choice.api_base
    key = api_key(choice)
    if key is not None:
        kwargs["api_key"] = key
    client = ProviderClient(choice.model, settings.retries, settings.backoff_s)
    return LiteLlm(model=choice.model, llm_client=client, **kwargs), Pricing(choice.model, choice.price_per_mtok)


def api_key(choice: ModelChoice) -> str | None:
    """The key from ``api_key_env``; None to let LiteLLM read its own variables (checked here)."""
    if choice.api_key_env:
        value = os.environ.get(choice.api_key_env)
        if not value:
            raise AgentSetupError(f"model {choice.model} (from {choice.source}): the environment variable "
                                  f"{choice.api_key_env} named by api_key_env is not set",
                                  f"export {choice.api_key_env}=<your key> before running")
        return value
    missing = import_litellm().validate_environment(model=choice.model).get("missing_keys") or []
    if missing:
        local = " (a local server that ignores keys accepts any value)" if choice.api_base else ""
        raise AgentSetupError(f"model {choice.model} (from {choice.source}) needs {', '.join(missing)}, which is not set",
                              f"export {missing[0]}=<your key>{local}, or name another variable with "
                              f"api_key_env in caramba.yml (llm:) or the persona file")
    return None
