"""Runs, targets and entrypoints: unique names, existing references, coherent gates."""

from __future__ import annotations

from collections import Counter

from caramba.engine.compiler.checks import Issue
from caramba.engine.compiler.seeds import expanded_ids
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.selection import ambiguity
from caramba.engine.manifest.targets import ExperimentTarget

EVAL_METRICS = ("val_loss", "train_loss")  # what the standard trainer's evaluations report


def check_runs(manifest: Manifest) -> list[Issue]:
    """Names are unique, entrypoints exist, seeds are distinct, gates have what they need."""
    issues: list[Issue] = []
    names = [t.name for t in manifest.targets]
    for name, count in Counter(names).items():
        if count > 1:
            index = len(names) - 1 - names[::-1].index(name)
            issues.append(Issue(("targets", index, "name"), f"target name {name!r} is used {count} times", "give every target a unique name"))
    for key, target in manifest.entrypoints.items():
        if target not in names:
            issues.append(Issue(("entrypoints", key), f"entrypoint {key!r} names target {target!r}, which does not exist",
                                f"use one of: {', '.join(names)}"))
    if (problem := ambiguity(manifest)) is not None:
        issues.append(Issue(("targets",), problem, f"add `entrypoints: {{default: {names[0]}}}` (--target still picks another)"))
    best = manifest.defaults.runtime.save_best
    if best is not None and best not in EVAL_METRICS:
        issues.append(Issue(("defaults", "runtime", "save_best"), f"save_best {best!r} is not a metric the trainer evaluates, "
                            "so no best checkpoint would ever be kept", f"use one of: {', '.join(EVAL_METRICS)}"))
    for t_index, target in enumerate(manifest.targets):
        if isinstance(target, ExperimentTarget):
            issues += _experiment(manifest, t_index, target)
    return issues


def _experiment(manifest: Manifest, t_index: int, target: ExperimentTarget) -> list[Issue]:
    issues: list[Issue] = []
    base = ("targets", t_index)
    ids: list[str] = []
    data_block = getattr(target.data.config, "block_size", None)
    for r_index, run in enumerate(target.runs):
        where = (*base, "runs", r_index)
        seeds = run.seed if isinstance(run.seed, list) else [run.seed]
        if isinstance(run.seed, list):
            if not seeds:
                issues.append(Issue((*where, "seed"), "the seed list is empty", "give at least one seed, e.g. seed: [0, 1, 2]"))
            if len(set(seeds)) != len(seeds):
                issues.append(Issue((*where, "seed"), f"seeds repeat: {seeds}", "list each seed once"))
        expanded = expanded_ids(run)
        for run_id in expanded:
            if run_id in ids:
                issues.append(Issue((*where, "id"), f"run id {run_id!r} is not unique in target {target.name!r}", "rename one of the runs"))
            ids.append(run_id)
        train = run.train
        upcycle = target.trainer.ref == "trainer.upcycle"
        if train.phase != "standard" and target.trainer.ref == "trainer.standard":
            issues.append(Issue((*where, "train", "phase"), f"phase {train.phase!r} is a distillation phase of trainer.upcycle",
                                "set trainer: {ref: trainer.upcycle, config: {teacher: …}} (docs/upcycling.md), or phase: standard"))
        if data_block is not None and train.block_size > data_block:
            issues.append(Issue((*where, "train", "block_size"), f"block_size={train.block_size} exceeds the data's block_size={data_block}",
                                f"set train.block_size ≤ {data_block} or raise data.config.block_size"))
        if train.use_amp and train.device == "cpu":
            issues.append(Issue((*where, "train", "use_amp"), "AMP is a CUDA feature; this run is on the CPU",
                                "set use_amp: false, or device: cuda"))
        if run.verify is not None and run.verify.type == "compare" and not (train.teacher_ckpt or upcycle):
            issues.append(Issue((*where, "verify"), "compare verification needs a teacher", "set train.teacher_ckpt, or use verify type fidelity"))
        if run.verify is not None and run.verify.type == "eval":
            for c_index, case in enumerate(run.verify.cases):
                if case.kind == "choice_logprob" and not case.choices:
                    issues.append(Issue((*where, "verify", "cases", c_index, "choices"), "choice_logprob needs choices", "add choices: [a, b, …]"))
        init = getattr(run, "init_from", None)
        own = init is not None and (init.run == "previous" or init.run in {i for t in manifest.experiments() for r in t.runs for i in (r.id, *expanded_ids(r))})
        if own and init.checkpoint == "best" and manifest.defaults.runtime.save_best is None:  # a run of this manifest
            issues.append(Issue((*where, "init_from", "checkpoint"), "checkpoint: best needs runs that keep a best checkpoint, "
                                "but defaults.runtime.save_best is not set", "set defaults.runtime.save_best: val_loss, or checkpoint: final"))
        if train.early_stopping and manifest.defaults.logging.eval_every == 0:
            issues.append(Issue((*where, "train", "early_stopping"), "early stopping watches evaluations during training, but "
                                "defaults.logging.eval_every is 0 (evaluate only at the end)",
                                "set defaults.logging.eval_every to the steps between evaluations (e.g. 100), or remove early_stopping"))
        if train.early_stopping and train.early_stopping.metric == "val_loss" and manifest.defaults.data.val_frac == 0:
            issues.append(Issue((*where, "train", "early_stopping", "metric"), "val_loss needs a validation split but defaults.data.val_frac is 0",
                                "set defaults.data.val_frac > 0, or monitor train_loss"))
    bench_ids = [b.id for b in target.benchmarks]
    has_teacher = target.trainer.ref == "trainer.upcycle" or any(r.train.teacher_ckpt for r in target.runs)
    for b_index, bench in enumerate(target.benchmarks):
        if bench_ids.count(bench.id) > 1:
            issues.append(Issue((*base, "benchmarks", b_index, "id"), f"benchmark id {bench.id!r} repeats", "give every benchmark a unique id"))
        if "teacher" in bench.models and not has_teacher:
            issues.append(Issue((*base, "benchmarks", b_index, "models"), "benchmarks name a teacher but no run has teacher_ckpt",
                                "remove teacher from models, or set train.teacher_ckpt"))
    return issues
