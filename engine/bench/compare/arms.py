"""Arms: which runs are replicates (seeds) of the same configuration.

An arm is an experiment target; its runs are its seeds. From a manifest's
``comparison:`` block the arms are the listed targets (or, for ``target/run``, that one run
of the target and its seeds), their runs the ids the manifest gives them (so ``caramba compare M.yml`` finds exactly the runs ``caramba run M.yml``
made). From a list of run ids, runs group by (manifest, target, run id without its
``-s<seed>`` suffix); an arm is named after its target, qualified by the manifest or the
run when two groups share a target name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caramba.engine.store.record import RunRecord

SEED_SUFFIX = re.compile(r"-s\d+$")


class ComparisonInputError(ValueError):
    """The runs asked for cannot be compared (missing, unfinished, or a single arm)."""


@dataclass(frozen=True)
class Arm:
    """A named arm and its runs (the seeds), in order."""

    name: str
    runs: tuple[RunRecord, ...]

    @property
    def dirs(self) -> list[Path]:
        """The run directories of the arm's seeds."""
        return [Path(r.dir) for r in self.runs]


def arms_of_runs(records: list[RunRecord]) -> list[Arm]:
    """Group finished runs into arms (module docstring), in first-seen order."""
    _require_finished(records)
    groups: dict[tuple[str, str, str], list[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.manifest_name, r.target, SEED_SUFFIX.sub("", r.run)), []).append(r)
    targets = [t for _, t, _ in groups]
    per_target: dict[str, set[str]] = {}
    for m, t, _ in groups:
        per_target.setdefault(t, set()).add(m)
    arms = []
    for (manifest, target, base), runs in groups.items():
        name = target
        if targets.count(target) > 1:
            name = f"{manifest}:{target}" if len(per_target[target]) > 1 else f"{target}/{base}"
        arms.append(Arm(name, tuple(runs)))
    if len(arms) < 2:
        raise ComparisonInputError(f"runs {', '.join(r.id for r in records)} are all seeds of one arm ({arms[0].name}); "
                                   "a comparison needs runs of at least two targets")
    return arms


def arms_of_manifest(compiled: Any, store: Any) -> list[Arm]:
    """The arms of a manifest's ``comparison:`` block (else every experiment target), from the run store."""
    from caramba.engine.store.runs import UnknownRun

    spec = compiled.manifest.comparison
    names = spec.arms if spec is not None else [t.name for t in compiled.manifest.experiments()]
    arms, missing = [], []
    for name in names:
        records = []
        for run_id in _arm_run_ids(compiled, name):
            try:
                records.append(store.get(run_id))
            except UnknownRun:
                missing.append(run_id)
        arms.append(Arm(name, tuple(records)))
    if missing:
        raise ComparisonInputError(f"runs {', '.join(missing)} of manifest {compiled.manifest.name!r} have not been run; "
                                   f"run them first: caramba run {compiled.file}")
    _require_finished([r for a in arms for r in a.runs])
    if len(arms) < 2:
        raise ComparisonInputError(f"manifest {compiled.manifest.name!r} has one experiment target; declare "
                                   "`comparison: {arms: [A, B]}` over two or more targets")
    return arms


def _arm_run_ids(compiled: Any, arm: str) -> list[str]:
    """The run ids of an arm: every run of its target, or for ``target/run`` that run and its seeds (``run-s<N>``)."""
    from caramba.engine.compiler.seeds import seed_id
    from caramba.engine.manifest.comparison import arm_parts
    from caramba.engine.store.ids import run_ids

    name, run = arm_parts(arm)
    target = next(t for t in compiled.manifest.experiments() if t.name == name)
    ids = run_ids(compiled, name)
    if run is None:
        return ids
    return [i for r, i in zip(target.runs, ids) if r.id in (run, seed_id(run, r.seed))]


def _require_finished(records: list[RunRecord]) -> None:
    unfinished = [f"{r.id} ({r.status})" for r in records if r.status != "succeeded"]
    if unfinished:
        raise ComparisonInputError(f"only succeeded runs can be compared; not finished: {', '.join(unfinished)}; "
                                   "run them again (`caramba run` resumes) or leave them out")
