"""Each role's model for a session: chosen by precedence, or replayed; always wrapped.

Normal sessions build the model of each role with :func:`caramba.agents.models.choose_model`
(``--model`` > persona > workspace; keys and prices at the same level). With
``--replay`` every role answers from the recording instead, priced as recorded. Either
way the model is wrapped in a :class:`~caramba.agents.runtime.llm.SessionLlm` (budget,
limits, metering, recording to the session's ``recording.jsonl``), whose first line
(written once) describes the session: its process, config, budget and each role's
pricing, which a replay reads back.
"""

from __future__ import annotations

from typing import Any

from caramba.agents.errors import AgentSetupError
from caramba.agents.models import Override, build_model, choose_model
from caramba.agents.persona import Persona
from caramba.agents.recording import Recorder, ReplayLlm, read_recording
from caramba.agents.runtime.llm import SessionLlm
from caramba.agents.runtime.options import SessionOptions
from caramba.agents.runtime.turns import Speaker
from caramba.agents.usage import Pricing, UsageMeter
from caramba.workspace.config import LlmSettings


def build_speakers(process: str, config: dict[str, Any], options: SessionOptions, personas: dict[str, Persona],
                   settings: LlmSettings, recorder: Recorder, meter: UsageMeter) -> dict[str, Speaker]:
    """role → Speaker; writes the recording's header once; refuses a budget it cannot keep."""
    models: dict[str, tuple[Any, Pricing]] = {}
    if options.replay is not None:
        recording = read_recording(options.replay)
        for role in personas:
            models[role] = (ReplayLlm(role=role, recording=recording),
                            Pricing.from_json(recording.header["pricing"].get(role)))
    else:
        override = Override(options.model, options.api_base, options.api_key_env, options.price_per_mtok)
        for role, persona in personas.items():
            models[role] = build_model(choose_model(persona, override, None, settings), role, options.workspace, settings)
        check_budget_is_keepable(meter, {role: pricing for role, (_, pricing) in models.items()})
    if not recorder.path.is_file():
        recorder.append({"kind": "session", "process": process, "config": config, "budget": meter.budget.to_json(),
                         "pricing": {r: m[1].to_json() for r, m in models.items()}})
    return {role: Speaker(personas[role], SessionLlm.wrap(model, role, pricing, settings.max_tokens,
                                                          settings.turn.model_calls, recorder, meter))
            for role, (model, pricing) in models.items()}


def check_budget_is_keepable(meter: UsageMeter, pricing: dict[str, Pricing]) -> None:
    """A USD budget needs every role's model priced (LiteLLM's map or an explicit price)."""
    unpriced = sorted(role for role, p in pricing.items() if not p.known)
    if meter.budget.usd is not None and unpriced:
        models = sorted({str(pricing[r].model) for r in unpriced})
        raise AgentSetupError(f"a budget of ${meter.budget.usd:g} cannot be kept: {', '.join(models)} (used by "
                              f"{', '.join(unpriced)}) has no price in LiteLLM's cost map",
                              "give its price with --price-per-mtok IN,OUT (USD per million input and output tokens; "
                              "or price_per_mtok in caramba.yml llm: / the persona file), or limit tokens instead "
                              "with --budget-tokens N")
