"""The development process: an experiment loop that proposes, pilots, runs, analyses and
iterates on manifests until a goal or a budget is reached (docs/agents.md, "Development session").

``config.py`` holds the session's settings, ``inputs.py`` checks them before anything
runs, ``process.py`` is the loop, ``stages.py`` takes one node through check → pilot →
full runs, ``decide.py`` when to stop (and checks an analysis's numbers), ``runs.py`` trains on the engine, ``budget.py`` prices and charges compute,
``variants.py`` makes a persona's changes into manifests, ``prompts.py`` and ``tools.py``
are what the personas see and call, ``approve.py`` is ``--approve``, ``memory.py`` the
link to the knowledge memory, ``outputs.py`` the files; ``tree/`` is the experiment tree.
"""

from __future__ import annotations

import asyncio

from caramba.agents.runtime import AgentSession, SessionOptions, SessionResult, SessionSpec
from caramba.agents.runtime.team import replay_options
from caramba.engine.manifest.processes import DevelopmentProcess
from caramba.engine.manifest.targets import ProcessTarget
from caramba.processes.development.config import ANALYST, DevelopmentConfig
from caramba.processes.development.inputs import check_inputs, load_start

__all__ = ["DevelopmentConfig", "load_start", "replay_config", "run_development", "run_target"]


def run_development(config: DevelopmentConfig, options: SessionOptions) -> SessionResult:
    """Check the inputs (before any model call or run), then run the session to its end."""
    from caramba.processes.development.process import Development
    from caramba.processes.development.prompts import RULES, label

    start = check_inputs(config, options.workspace, options.output_dir)
    spec = SessionSpec("development", config.question, config.to_json(), list(config.team), RULES, label)
    return asyncio.run(AgentSession(spec, options).run(Development(config, start)))


def replay_config(options: SessionOptions) -> tuple[DevelopmentConfig, SessionOptions]:
    """The recorded session's config, and ``options`` with its initial budget."""
    config, options = replay_options(options)
    return DevelopmentConfig.from_json(config), options


def config_of_target(target: ProcessTarget, workspace: object) -> DevelopmentConfig:
    """The config of a manifest's ``type: development`` target (its ``team`` maps roles to personas,
    with an ``analyst`` role; empty → the default team)."""
    from pathlib import Path

    process = target.process
    if not isinstance(process, DevelopmentProcess):
        raise TypeError(f"config_of_target got a {process.type} process")
    team = DevelopmentConfig.team_of(None, None)
    if target.team:
        others = tuple((r, p) for r, p in target.team.items() if r != ANALYST)
        team = (*others, (ANALYST, target.team.get(ANALYST, "reviewer")))
    workspace_path = Path(str(workspace))
    return DevelopmentConfig(
        question=process.goal, start=str(process.start), start_text=load_start(str(process.start), workspace_path),
        metric=process.metric, direction=process.direction, target=process.target, seeds=process.seeds, team=team,
        iterations=process.iterations, patience=process.patience, compute_steps=process.compute_steps,
        compute_gpu_hours=process.compute_gpu_hours, wall_s=process.wall_s, pilot_fraction=process.pilot_fraction)


def run_target(target: ProcessTarget, options: SessionOptions) -> SessionResult:
    """A manifest's development target: its process settings fill what options leave open."""
    process = target.process
    if not isinstance(process, DevelopmentProcess):
        raise TypeError(f"run_target got a {process.type} process")
    options = options.filled_from(process)
    return run_development(config_of_target(target, options.workspace), options)
