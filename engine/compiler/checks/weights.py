"""Starting weights and divergence policy: what ``init_from`` and ``on_divergence`` need.

* ``init_from.run: previous`` needs a run before it in the target;
* a source run of this manifest with a seed list has every seed of the run that starts
  from it (each seed starts from the source's run of the same seed, ``compiler/seeds.py``),
  and a run with one seed cannot start from one with a seed list (which seed is ambiguous);
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
from caramba.engine.compiler.seeds import expanded_ids, seed_list, source_run
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget


def check_starting_weights(manifest: Manifest) -> list[Issue]:
    """Issues of ``init_from`` run references and of ``on_divergence: rollback``."""
    issues: list[Issue] = []
    for t_index, target in enumerate(manifest.targets):
        if not isinstance(target, ExperimentTarget):
            continue
        position = {i: n for n, r in enumerate(target.runs) for i in {r.id, *expanded_ids(r)}}  # id → index in runs
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
            elif init.target is None and init.run in position and position[init.run] >= r_index:
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
                    if init.run not in ids + [i for r in getattr(other, "runs", []) for i in expanded_ids(r)]:
                        issues.append(Issue(path, f"target {init.target!r} has no run {init.run!r}", f"use one of: {', '.join(ids)}"))
            issues += _seeds(manifest, target, r_index, where)
    return issues + _cycles(manifest)


def _seeds(manifest: Manifest, target: ExperimentTarget, r_index: int, where: tuple[object, ...]) -> list[Issue]:
    """A seeded source has this run's seeds; a one-seed run does not start from a seeded one."""
    found = source_run(manifest, target, r_index)
    run = target.runs[r_index]
    if found is None or (source_seeds := seed_list(found[1])) is None:
        return []
    owner, source = found
    named = "the previous run" if run.init_from.run == "previous" else "run"
    source_name = source.id if owner is target else f"{owner.name}/{source.id}"
    seeds = seed_list(run)
    if seeds is None:
        return [Issue((*where, "init_from"), f"run {run.id!r} has one seed ({run.seed}) but starts from {named} {source_name!r}, "
                      f"which has seeds {source_seeds}: which of them to start from is ambiguous",
                      f"give run {run.id!r} the same seed list (seed: {source_seeds}; each seed then starts from the run of "
                      f"{source_name!r} with the same seed), or name one seed's run: init_from: {{run: {expanded_ids(source)[0]}}}")]
    missing = [s for s in seeds if s not in source_seeds]
    if missing:
        return [Issue((*where, "seed"), f"seeds {missing} of run {run.id!r} have no run to start from: each seed starts from "
                      f"the run with the same seed of {named} {source_name!r} (init_from), whose seeds are {source_seeds}",
                      f"use seeds among {source_seeds}, or add {missing} to the seed list of {source_name!r}")]
    return []


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
