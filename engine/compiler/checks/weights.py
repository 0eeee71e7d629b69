"""Starting weights and divergence policy: what ``init_from`` and ``on_divergence`` need.

* ``init_from.run: previous`` needs a run before it in the target;
* ``init_from.run`` naming a run of a target (``target:`` or this one) must name a run
  that comes *before* it (runs of a target run in order; another target's runs must
  be run first, which the run reports if not);
* targets that start from each other's runs form no cycle (``caramba run`` runs a
  target's source targets first);
* ``on_divergence: rollback`` needs checkpoints to roll back to
  (``defaults.runtime.save_every > 0``).
Whether files exist is checked with every other workspace path.
"""

from __future__ import annotations

from caramba.engine.compiler.checks import Issue
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget


def check_starting_weights(manifest: Manifest) -> list[Issue]:
    """Issues of ``init_from`` run references and of ``on_divergence: rollback``."""
    issues: list[Issue] = []
    for t_index, target in enumerate(manifest.targets):
        if not isinstance(target, ExperimentTarget):
            continue
        run_ids = [r.id for r in target.runs]
        for r_index, run in enumerate(target.runs):
            where = ("targets", t_index, "runs", r_index)
            if run.train.on_divergence.action == "rollback" and manifest.defaults.runtime.save_every == 0:
                issues.append(Issue((*where, "train", "on_divergence", "action"), "rollback needs checkpoints, but "
                                    "defaults.runtime.save_every is 0 (only a final checkpoint)",
                                    "set defaults.runtime.save_every (e.g. 100), or on_divergence.action: fail"))
            init = run.init_from
            if init is None or init.run is None:
                continue
            path = (*where, "init_from", "run")
            if init.run == "previous" and init.target is None:
                if r_index == 0:
                    issues.append(Issue(path, f"run {run.id!r} is the first run of target {target.name!r}: there is no previous run",
                                        "remove init_from, or move this run after the one it continues"))
            elif init.target is None and init.run in run_ids and run_ids.index(init.run) >= r_index:
                issues.append(Issue(path, f"run {init.run!r} does not run before {run.id!r} (runs of a target run in order)",
                                    f"name an earlier run of {target.name!r}, or move this run after {init.run!r}"))
            elif init.target is not None:
                names = [t.name for t in manifest.targets]
                if init.target not in names:
                    issues.append(Issue((*where, "init_from", "target"), f"no target {init.target!r} in this manifest",
                                        f"use one of: {', '.join(names)}"))
                else:
                    other = manifest.targets[names.index(init.target)]
                    ids = [r.id for r in getattr(other, "runs", [])]
                    if init.run not in ids:
                        issues.append(Issue(path, f"target {init.target!r} has no run {init.run!r}", f"use one of: {', '.join(ids)}"))
    return issues + _cycles(manifest)


def _cycles(manifest: Manifest) -> list[Issue]:
    """One issue per target that reaches itself through ``init_from.target`` references."""
    needs = {t.name: {r.init_from.target for r in t.runs if r.init_from is not None and r.init_from.target not in (None, t.name)}
             for t in manifest.targets if isinstance(t, ExperimentTarget)}
    issues: list[Issue] = []
    for index, target in enumerate(manifest.targets):
        seen, frontier = set(), set(needs.get(target.name, ()))
        while frontier:
            name = frontier.pop()
            if name == target.name:
                issues.append(Issue(("targets", index, "runs"), f"target {target.name!r} starts from weights that start from its own",
                                    "break the cycle of init_from.target references"))
                break
            if name not in seen:
                seen.add(name)
                frontier |= needs.get(name, set())
    return issues
