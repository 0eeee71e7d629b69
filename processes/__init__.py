"""Processes: agent workflows on the agent runtime (:mod:`caramba.agents.runtime`).

``run_process(target, options)`` runs a manifest's process target (``type: process``);
``caramba run`` reaches it through ``caramba.engine.run.process`` and the process
commands (``caramba brainstorm``) call the same functions. Processes are registered like
every other manifest type (``engine/registry/catalog.py``, kind ``process``: its config
in ``engine/manifest/processes.py``, its implementation ``caramba.processes.<name>:run_target``);
a process type without an implementation is unknown to the manifest schema.
"""

from __future__ import annotations

from caramba.engine.manifest.targets import ProcessTarget
from caramba.processes.options import ProcessOptions, ProcessResult

__all__ = ["ProcessOptions", "ProcessResult", "run_process"]


def run_process(target: ProcessTarget, options: ProcessOptions) -> ProcessResult:
    """Run ``target``'s process with ``options`` (output folder, model override, budget…)."""
    from caramba.engine.registry.store import REGISTRY

    return REGISTRY.get("process", target.process.type).load()(target, options)
