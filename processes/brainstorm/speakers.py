"""Each role's model for a session: chosen by precedence, or replayed, always recorded.

Normal sessions build the model of each role with :func:`caramba.agents.models.choose_model`
(``--model`` > persona > workspace). With ``--replay`` every role answers from the
recording instead. Either way the model is wrapped in a ``RecordingLlm`` writing to the
session's ``recording.jsonl``, whose first line (written once) describes the session:
its config, budget and each role's pricing model, which a replay reads back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caramba.agents.models import build_model, choose_model
from caramba.agents.persona import Persona
from caramba.agents.recording import Recorder, RecordingLlm, ReplayLlm, read_recording
from caramba.processes.brainstorm.config import BrainstormConfig
from caramba.processes.brainstorm.turns import Speaker
from caramba.processes.options import ProcessOptions
from caramba.workspace.config import load_workspace


def speakers(config: BrainstormConfig, options: ProcessOptions, personas: dict[str, Persona],
             recorder: Recorder) -> dict[str, Speaker]:
    """role → Speaker (persona, recorded model, pricing model); writes the header once."""
    models: dict[str, tuple[Any, str | None]] = {}
    if options.replay is not None:
        header, calls = read_recording(options.replay)
        for role in personas:
            pricing = header["pricing"].get(role)
            models[role] = (ReplayLlm(role=role, calls=calls, pricing=pricing), pricing)
    else:
        llm = load_workspace(options.workspace).llm
        for role, persona in personas.items():
            choice = choose_model(persona, options.model, options.api_base, llm)
            models[role] = build_model(choice, role, options.workspace)
    if not recorder.path.is_file():
        recorder.append({"kind": "session", "process": "brainstorm", "config": config.to_json(),
                         "budget_usd": options.budget_usd, "pricing": {r: m[1] for r, m in models.items()}})
    return {role: Speaker(personas[role], RecordingLlm(inner=model, role=role, pricing=pricing).attach(recorder), pricing)
            for role, (model, pricing) in models.items()}


def replay_header(path: Path) -> dict[str, Any]:
    """The session header of a recording (its config and budget)."""
    return read_recording(path)[0]
