"""Seed lists and chained runs: which run each seed of a run starts from.

A run with ``seed: [0, 1]`` expands into runs ``<id>-s0`` and ``<id>-s1`` (``lower.py``).
A run may start from a run of this manifest: ``init_from: {run: previous}`` (the run before
it in its target's ``runs:`` list as written, before expansion) or ``{run: <id>}``
(optionally with ``target:``). The rule, decided once here and used by validation and
lowering alike:

* the source run has a seed list → each seed of this run starts from the source's run with
  the **same seed** (``global-s1`` from ``blockwise-s1``); every seed of this run must be in
  the source's list (``checks/weights.py`` refuses it otherwise);
* the source run has one seed → every seed of this run starts from it;
* this run has one seed and the source a list → refused at validation: which seed to start
  from is ambiguous; give this run the same seed list, or name one seed's run
  (``init_from: {run: blockwise-s0}``).

An expanded id such as ``blockwise-s0`` is itself a valid ``init_from.run`` (and
``target/run`` comparison arms name a run with all its seeds, ``engine/bench/compare/arms.py``).
"""

from __future__ import annotations

from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget, Run


def seed_id(run_id: str, seed: int) -> str:
    """The id of seed ``seed``'s run of a run with a seed list: ``<id>-s<seed>``."""
    return f"{run_id}-s{seed}"


def seed_list(run: Run) -> list[int] | None:
    """The run's seed list, or None when it has one seed (and keeps its id)."""
    return list(run.seed) if isinstance(run.seed, list) else None


def expanded_ids(run: Run) -> list[str]:
    """The ids ``run`` becomes after expansion: ``<id>-s<seed>`` per seed, or its own id."""
    seeds = seed_list(run)
    return [run.id] if seeds is None else [seed_id(run.id, s) for s in seeds]


def source_run(manifest: Manifest, target: ExperimentTarget, index: int) -> tuple[ExperimentTarget, Run] | None:
    """The (target, un-expanded run) that ``target.runs[index]``'s ``init_from.run`` names,
    or None: no ``init_from.run``, a run-store id, an expanded id, or a reference validation refuses."""
    init = target.runs[index].init_from
    if init is None or init.run is None:
        return None
    if init.run == "previous":
        return (target, target.runs[index - 1]) if init.target is None and index > 0 else None
    owner = target if init.target is None else next((t for t in manifest.experiments() if t.name == init.target), None)
    found = next((r for r in owner.runs if r.id == init.run), None) if owner is not None else None
    return (owner, found) if owner is not None and found is not None else None


def expand_seeds(manifest: Manifest, target: ExperimentTarget) -> list[Run]:
    """``target``'s runs with one seed each, every run-of-this-manifest source made explicit
    where seeds are involved (the module docstring's rule)."""
    out: list[Run] = []
    for index, run in enumerate(target.runs):
        seeds, source = seed_list(run), source_run(manifest, target, index)
        source_seeds = seed_list(source[1]) if source is not None else None
        if seeds is None and source_seeds is None:
            out.append(run)  # unchanged: its id (a hash of its content) stays what it was
            continue
        for seed, run_id in zip(seeds or [run.seed], expanded_ids(run)):
            init = run.init_from
            if source is not None:
                name = source[1].id if source_seeds is None else seed_id(source[1].id, seed)
                init = init.model_copy(update={"run": name})
            out.append(run.model_copy(update={"id": run_id, "seed": seed, "init_from": init}))
    return out
