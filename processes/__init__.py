"""Processes: agent workflows that orchestrate persona agents towards an outcome.

``run_process(target, options)`` runs a manifest's process target (``type: process``);
``caramba run`` reaches it through ``caramba.engine.run.process`` and the process
commands (``caramba brainstorm``) call the same functions. Each process lives in its
own package: ``brainstorm`` now; ``development`` and ``paper_write`` are declared in the
manifest schema and will be added next to it, registered in :data:`PROCESSES`.
"""

from __future__ import annotations

import importlib

from caramba.agents.errors import AgentSetupError
from caramba.engine.manifest.targets import ProcessTarget
from caramba.processes.options import ProcessOptions, ProcessResult

#: process type → "module:function" taking ``(target, options)`` and returning a ProcessResult.
PROCESSES: dict[str, str] = {
    "brainstorm": "caramba.processes.brainstorm:run_target",
}

__all__ = ["PROCESSES", "ProcessOptions", "ProcessResult", "run_process"]


def run_process(target: ProcessTarget, options: ProcessOptions) -> ProcessResult:
    """Run ``target``'s process with ``options`` (output folder, model override, budget…)."""
    kind = target.process.type
    if kind not in PROCESSES:
        raise AgentSetupError(f"process type {kind!r} (target {target.name!r}) is not implemented yet",
                              f"implemented processes: {', '.join(PROCESSES)}")
    module_name, function = PROCESSES[kind].split(":")
    return getattr(importlib.import_module(module_name), function)(target, options)
