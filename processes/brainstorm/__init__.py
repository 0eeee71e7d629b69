"""The brainstorm process: a moderated multi-persona discussion ending in manifests.

``run_brainstorm(config, options)`` runs (or resumes, or replays) one session;
``run_target(target, options)`` runs a manifest's ``type: process`` brainstorm target.
The session's folder receives ``transcript.md``/``.jsonl``, ``proposals/NN_<name>.yml``,
``proposals.md``/``.csv`` (dry-run costs), ``summary.md``, ``state.json`` (the
checkpoint) and ``recording.jsonl`` (for ``--replay``). See docs/agents.md.
"""

from __future__ import annotations

import asyncio
import dataclasses

from caramba.agents.persona import load_persona
from caramba.engine.manifest.targets import BrainstormProcess, ProcessTarget
from caramba.processes.brainstorm.config import BrainstormConfig
from caramba.processes.brainstorm.speakers import replay_header
from caramba.processes.options import ProcessOptions, ProcessResult

__all__ = ["BrainstormConfig", "replay_config", "run_brainstorm", "run_target"]


def run_brainstorm(config: BrainstormConfig, options: ProcessOptions) -> ProcessResult:
    """Run one session to its end (completed, or stopped by the budget)."""
    from caramba.processes.brainstorm.session import BrainstormSession

    personas = {role: load_persona(name, options.workspace) for role, name in config.team}
    return asyncio.run(BrainstormSession(config, options, personas).run())


def replay_config(options: ProcessOptions) -> tuple[BrainstormConfig, ProcessOptions]:
    """The recorded session's config, and ``options`` with its budget when none was given."""
    if options.replay is None:
        raise ValueError("replay_config needs options.replay")
    header = replay_header(options.replay)
    budget = options.budget_usd if options.budget_usd is not None else header["budget_usd"]
    return BrainstormConfig.from_json(header["config"]), dataclasses.replace(options, budget_usd=budget)


def run_target(target: ProcessTarget, options: ProcessOptions) -> ProcessResult:
    """A manifest's brainstorm target: its process settings fill what options leave open."""
    process = target.process
    if not isinstance(process, BrainstormProcess):
        raise TypeError(f"run_target got a {process.type} process")
    options = dataclasses.replace(options, model=options.model or process.model,
                                  budget_usd=options.budget_usd if options.budget_usd is not None else process.budget_usd)
    return run_brainstorm(BrainstormConfig.from_target(target), options)
