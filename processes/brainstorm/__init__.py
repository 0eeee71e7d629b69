"""The brainstorm: a moderated persona discussion ending in manifests, on the agent runtime.

``process.py`` orders the turns, ``prompts.py`` says what each asks, ``tools.py`` holds
the process tools, ``proposals.py`` makes proposals into saved, runnable manifests,
``outputs.py`` writes ``proposals.md``/``.csv``. See docs/agents.md.
"""

from __future__ import annotations

import asyncio

from caramba.agents.runtime import AgentSession, SessionOptions, SessionResult, SessionSpec
from caramba.agents.runtime.team import replay_options
from caramba.engine.manifest.processes import BrainstormProcess
from caramba.engine.manifest.targets import ProcessTarget
from caramba.processes.brainstorm.config import BrainstormConfig
from caramba.processes.brainstorm.prompts import RULES, label

__all__ = ["BrainstormConfig", "replay_config", "run_brainstorm", "run_target"]


def run_brainstorm(config: BrainstormConfig, options: SessionOptions) -> SessionResult:
    """Run one session to its end (completed, stopped by the budget, or failed cleanly)."""
    from caramba.processes.brainstorm.process import Brainstorm

    spec = SessionSpec("brainstorm", config.topic, config.to_json(), list(config.team), RULES, label)
    return asyncio.run(AgentSession(spec, options).run(Brainstorm(config)))


def replay_config(options: SessionOptions) -> tuple[BrainstormConfig, SessionOptions]:
    """The recorded session's config, and ``options`` with its initial budget (a replay
    then checks each call against the budget recorded with it)."""
    config, options = replay_options(options)
    return BrainstormConfig.from_json(config), options


def run_target(target: ProcessTarget, options: SessionOptions) -> SessionResult:
    """A manifest's brainstorm target: its process settings fill what options leave open."""
    process = target.process
    if not isinstance(process, BrainstormProcess):
        raise TypeError(f"run_target got a {process.type} process")
    options = options.filled_from(process)
    return run_brainstorm(BrainstormConfig.from_target(target), options)
