"""paper_write: a LaTeX paper from runs, in which every number is a reference to a run.

From a development session folder, a comparison manifest with its runs, or run ids, the
writer persona writes the sections (numbers only through the generated ``\\res``/``\\cmp``
macros, each section checked as it is written), the build checks and compiles the paper
(``build/``: provenance, claims, citations, pdflatex), and the reviewer persona reviews
it on a NeurIPS-style form for ``rounds`` rounds, each answered by a revision. Files:
``config.py`` (settings, input checks), ``record.py`` (results and builds),
``context.py`` (the writer's facts), ``sections.py`` (sections, ``paper.tex``),
``tools.py`` (process tools), ``review.py`` (the form), ``prompts.py``, ``process.py``
(the order of turns), ``outputs.py`` (reviews, changes, memory). See docs/agents.md.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from caramba.agents.runtime import AgentSession, SessionOptions, SessionResult, SessionSpec
from caramba.agents.runtime.team import replay_options
from caramba.engine.manifest.processes import PaperWriteProcess
from caramba.engine.manifest.targets import ProcessTarget
from caramba.processes.paper_write.config import PaperConfig, PaperInputError
from caramba.processes.paper_write.prompts import RULES

if TYPE_CHECKING:
    from caramba.processes.paper_write.record import PaperRecord

__all__ = ["PaperConfig", "PaperInputError", "prepare", "replay_config", "run_paper", "run_target"]


def prepare(config: PaperConfig, options: SessionOptions) -> "PaperRecord":
    """Check every input and write the generated files; raises PaperInputError (no model is called)."""
    from caramba.processes.paper_write.record import PaperRecord

    return PaperRecord.prepare(config, options.workspace, options.output_dir)


def run_paper(config: PaperConfig, options: SessionOptions) -> SessionResult:
    """Write, build, review and revise one paper (completed, stopped by the budget, or failed cleanly)."""
    from caramba.processes.paper_write.process import PaperWrite

    record = prepare(config, options)
    spec = SessionSpec("paper_write", config.title, config.to_json(), list(config.team), RULES)
    return asyncio.run(AgentSession(spec, options).run(PaperWrite(config, record)))


def replay_config(options: SessionOptions) -> tuple[PaperConfig, SessionOptions]:
    """The recorded session's config, and ``options`` with its initial budget."""
    config, options = replay_options(options)
    return PaperConfig.from_json(config), options


def run_target(target: ProcessTarget, options: SessionOptions) -> SessionResult:
    """A manifest's ``type: paper_write`` target: its process settings fill what options leave open."""
    process = target.process
    if not isinstance(process, PaperWriteProcess):
        raise TypeError(f"run_target got a {process.type} process")
    options = options.filled_from(process)
    config = PaperConfig.from_target(target, Path(options.workspace))
    return run_paper(config, options)
