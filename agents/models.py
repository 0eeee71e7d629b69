"""Which model a persona speaks through: LiteLLM for real models, or a script.

Precedence (the first that is set wins), each model paired with its own ``api_base``:

1. ``--model`` (or a process target's ``process.model``): overrides every persona;
2. the persona file's ``model``;
3. the workspace default, ``llm.model`` in ``caramba.yml``.

Model strings are LiteLLM's ``provider/model`` (``openai/gpt-4o-mini``,
``anthropic/claude-sonnet-4-5``, ``gemini/gemini-2.5-flash``, ``ollama_chat/llama3.1``,
``openai/<name>`` with an ``api_base`` for any OpenAI-compatible server), or
``script:<path>`` for the scripted model (:mod:`caramba.agents.scripted`). A bare name
such as ``gpt-4o`` is refused: ADK would send it to a native integration instead of
LiteLLM, and the provider prefix makes the choice explicit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.adk.models import BaseLlm

from caramba.agents.errors import AgentSetupError, ModelNotConfigured
from caramba.agents.persona import Persona
from caramba.agents.scripted import ScriptedLlm, load_script
from caramba.workspace.config import LlmSettings

SCRIPT_PREFIX = "script:"

HOW_TO_CONFIGURE = ("configure a model: pass --model provider/model (e.g. openai/gpt-4o-mini, "
                    "anthropic/claude-sonnet-4-5, ollama_chat/llama3.1), or set `llm: {model: ...}` in caramba.yml, "
                    "or `model:` in the persona file; to rehearse without an LLM use --model script:<script.yml> "
                    "(docs/agents.md)")


@dataclass(frozen=True)
class ModelChoice:
    """A resolved model string, its server and where the choice came from."""

    model: str
    api_base: str | None
    source: str


def choose_model(persona: Persona, override: str | None, override_api_base: str | None,
                 workspace_llm: LlmSettings) -> ModelChoice:
    """Apply the precedence of the module docstring; raise ModelNotConfigured when nothing is set."""
    if override:
        return ModelChoice(override, override_api_base, "--model")
    if persona.model:
        return ModelChoice(persona.model, persona.api_base, f"persona {persona.name}")
    if workspace_llm.model:
        return ModelChoice(workspace_llm.model, workspace_llm.api_base, "caramba.yml llm.model")
    raise ModelNotConfigured(f"no model is configured for persona {persona.name!r}", HOW_TO_CONFIGURE)


def build_model(choice: ModelChoice, role: str, workspace: Path) -> tuple[BaseLlm, str | None]:
    """The ADK model for ``choice`` and the LiteLLM model name its usage is priced with."""
    if choice.model.startswith(SCRIPT_PREFIX):
        script = load_script((workspace / choice.model.removeprefix(SCRIPT_PREFIX)).resolve())
        return ScriptedLlm(model=choice.model, script=script, role=role), script.price_as
    if "/" not in choice.model:
        raise AgentSetupError(f"model {choice.model!r} (from {choice.source}) has no provider prefix",
                              f"write it as provider/model for LiteLLM, e.g. openai/{choice.model} or "
                              f"anthropic/{choice.model}; {HOW_TO_CONFIGURE}")
    from google.adk.models.lite_llm import LiteLlm

    kwargs = {"api_base": choice.api_base} if choice.api_base else {}
    return LiteLlm(model=choice.model, **kwargs), choice.model
