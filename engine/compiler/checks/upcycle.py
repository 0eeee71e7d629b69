"""``trainer.upcycle`` targets: what the phases need, checked before anything trains.

* every run is a ``blockwise`` or ``global`` phase, no blockwise after a global one, and
  each run after the first starts from the one before (``init_from``) — otherwise it would
  start over from the surgery (or a fresh init);
* the teacher exists: ``teacher.run`` names a run of another experiment target (not
  ``previous``), one seed's run when that run has a seed list (``pretrain-s0``: a target has
  one teacher); ``train.teacher_ckpt`` is not used beside it;
* teacher and student are Llama-shaped (``engine/upcycle/blocks.py``: the block outputs and
  attention outputs ``distill_target`` names exist) with the same block count, width and
  vocabulary; ``intermediate_blocks`` are blocks that exist;
* with ``surgery: true`` the student's system is exactly the surgery's DBA student of the
  teacher (its semantic/geometric/value widths read from the student), field by field.

``defaults.runtime.distributed.teacher`` (replicated or sharded) is refused in a manifest
none of whose runs has a teacher: it would place nothing.

A Hugging Face teacher's config is read in the ``files`` stage (:func:`hf_teacher_issues`),
once its path is resolved; a run teacher's comes from its target's system here.
"""

from __future__ import annotations

from typing import Any

from caramba.engine.compiler.checks import Issue
from caramba.engine.compiler.seeds import expanded_ids, seed_list
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget

MODEL = ("system", "config", "model")
ATTENTION = (*MODEL, "topology", "layers", 0, "layers", 0, "layers", 1)
CONFIG = ("trainer", "config")


def _model(target: ExperimentTarget) -> dict[str, Any] | None:
    model = getattr(target.system.config, "model", None)
    return None if model is None else model.model_dump(mode="json", exclude_none=True)


def check_upcycle(manifest: Manifest) -> list[Issue]:
    """Issues of every ``trainer.upcycle`` target (see the module docstring)."""
    issues: list[Issue] = []
    for t_index, target in enumerate(manifest.targets):
        if isinstance(target, ExperimentTarget) and target.trainer.ref == "trainer.upcycle":
            issues += _target(manifest, ("targets", t_index), target)
    distributed = manifest.defaults.runtime.distributed
    if distributed is not None and distributed.teacher is not None and not any(
            t.trainer.ref == "trainer.upcycle" or any(r.train.teacher_ckpt for r in t.runs) for t in manifest.experiments()):
        issues.append(Issue(("defaults", "runtime", "distributed", "teacher"), f"teacher: {distributed.teacher} places a "
                            "teacher, but no run of this manifest has one (trainer.upcycle's teacher, or train.teacher_ckpt)",
                            "remove defaults.runtime.distributed.teacher"))
    return issues


def _target(manifest: Manifest, base: tuple[object, ...], target: ExperimentTarget) -> list[Issue]:
    issues = _phases(base, target)
    config = target.trainer.config
    teacher = config.teacher
    teacher_model: dict[str, Any] | None = None
    if teacher.run is not None and teacher.target is None and teacher.run not in {r.id for r in target.runs} | {"previous"}:
        pass  # a run-store id (a stored run's manifest): its architecture is checked when the teacher loads
    elif teacher.run is not None:
        name = teacher.target or target.name
        owner = next((t for t in manifest.experiments() if t.name == name), None)
        if teacher.run == "previous" or name == target.name:
            issues.append(Issue((*base, *CONFIG, "teacher"), "the teacher must be a run of another target (the student's "
                                "target holds the phases)", "set teacher: {run: <id>, target: <the teacher's target>}"))
        elif owner is None:
            issues.append(Issue((*base, *CONFIG, "teacher", "target"), f"teacher target {name!r} is not an experiment target "
                                "of this manifest", f"use one of: {', '.join(t.name for t in manifest.experiments())}"))
        elif teacher.run not in {i for r in owner.runs for i in (r.id, *expanded_ids(r))}:
            issues.append(Issue((*base, *CONFIG, "teacher", "run"), f"target {name!r} has no run {teacher.run!r}",
                                f"use one of: {', '.join(r.id for r in owner.runs)}"))
        elif (seeded := next((r for r in owner.runs if r.id == teacher.run and seed_list(r) is not None), None)) is not None:
            issues.append(Issue((*base, *CONFIG, "teacher", "run"), f"teacher run {teacher.run!r} of target {name!r} has seeds "
                                f"{seed_list(seeded)}, but a target has one teacher", f"name one seed's run: teacher: "
                                f"{{run: {expanded_ids(seeded)[0]}, target: {name}}}, or give {teacher.run!r} one seed"))
        else:
            teacher_model = _model(owner)
    if teacher_model is not None:
        issues += pair_issues(base, target, teacher_model, (*base, *CONFIG, "teacher"))
    return issues


def _phases(base: tuple[object, ...], target: ExperimentTarget) -> list[Issue]:
    issues: list[Issue] = []
    seen_global = False
    for r_index, run in enumerate(target.runs):
        where = (*base, "runs", r_index)
        phase = run.train.phase
        if phase == "standard":
            issues.append(Issue((*where, "train", "phase"), "trainer.upcycle runs distillation phases, not phase standard",
                                "set phase: blockwise or phase: global (or use trainer.standard)"))
        if phase == "blockwise" and seen_global:
            issues.append(Issue((*where, "train", "phase"), "a blockwise phase after a global one would undo the global "
                                "fine-tuning block by block", "order the runs: blockwise first, then global"))
        seen_global = seen_global or phase == "global"
        if r_index > 0 and run.init_from is None:
            issues.append(Issue((*where, "init_from"), f"run {run.id!r} would start over ({'from the surgery' if target.trainer.config.surgery else 'from a fresh init'}) "
                                "instead of from the previous phase's student", "add init_from: {run: previous}"))
        if run.train.teacher_ckpt:
            issues.append(Issue((*where, "train", "teacher_ckpt"), "trainer.upcycle takes its teacher from trainer.config.teacher",
                                "remove train.teacher_ckpt and set trainer.config.teacher: {hf: <folder>}"))
    return issues


def pair_issues(base: tuple[object, ...], target: ExperimentTarget, teacher: dict[str, Any], teacher_at: tuple[object, ...]) -> list[Issue]:
    """Teacher vs student: Llama shapes, blocks, widths, vocabulary, and the surgery's exact student."""
    from caramba.engine.upcycle.blocks import layout

    student = _model(target)
    if student is None:
        return [Issue((*base, "system"), "trainer.upcycle needs a language-model student (system.language_model)",
                      "use system: {ref: system.language_model, config: {model: …}}")]
    try:
        t = layout(teacher)
    except ValueError as exc:
        return [Issue(teacher_at, f"the teacher: {exc}", "use a Llama-shaped teacher (e.g. a caramba import-hf model)")]
    try:
        s = layout(student)
    except ValueError as exc:
        return [Issue((*base, *MODEL), f"the student: {exc}", "keep the teacher's block structure; change only the attention")]
    issues: list[Issue] = []
    for what, mine, theirs, at in (("repeat", s.blocks, t.blocks, (*MODEL, "topology", "layers", 0, "repeat")),
                                   ("d_model", s.d_model, t.d_model, (*MODEL, "embedder", "d_model")),
                                   ("vocab_size", s.vocab, t.vocab, (*MODEL, "embedder", "vocab_size"))):
        if mine != theirs:
            issues.append(Issue((*base, *at), f"the student has {what} {mine}, the teacher {theirs}: blocks are distilled one "
                                "to one, on the same residual width and vocabulary", f"set {what}: {theirs}"))
    config = target.trainer.config
    for r_index, run in enumerate(target.runs):
        if run.train.phase == "blockwise" and run.steps < s.blocks:
            issues.append(Issue((*base, "runs", r_index, "steps"), f"a blockwise run splits its steps over the {s.blocks} "
                                f"blocks; {run.steps} leaves a block without a step", f"set steps ≥ {s.blocks}"))
    for k, block in enumerate(config.intermediate_blocks):
        if not 0 <= block < s.blocks:
            issues.append(Issue((*base, *CONFIG, "intermediate_blocks", k), f"block {block} does not exist (the student has "
                                f"{s.blocks} blocks, 0 … {s.blocks - 1})", f"use block indices below {s.blocks}"))
    if config.surgery and not issues:
        issues += _surgery(base, teacher, student, s.attention)
    return issues


def _surgery(base: tuple[object, ...], teacher: dict[str, Any], student: dict[str, Any], attention: dict[str, Any]) -> list[Issue]:
    """The student must be exactly ``student_config(teacher, …)`` of its own DBA widths."""
    from caramba.engine.model.config.models import TransformerModelConfig
    from caramba.engine.upcycle.surgery import SurgeryError, student_config

    if attention.get("mode") != "decoupled":
        return [Issue((*base, *ATTENTION, "mode"), "surgery: true builds a DBA student, but the student's attention is "
                      f"mode {attention.get('mode')!r}", "set mode: decoupled (with sem_dim, geo_dim), or surgery: false")]
    try:
        expected = student_config(teacher, int(attention["sem_dim"]), int(attention["geo_dim"]), bool(attention.get("gate")),
                                  attention.get("v_dim"))
    except (SurgeryError, KeyError, TypeError) as exc:
        return [Issue((*base, *ATTENTION), f"surgery cannot map the teacher to this student: {exc}",
                      "change the student's sem_dim / geo_dim / v_dim")]
    want = TransformerModelConfig.model_validate(expected).model_dump(mode="json", exclude_none=True)
    have = TransformerModelConfig.model_validate(student).model_dump(mode="json", exclude_none=True)
    return [Issue((*base, *MODEL, *path), f"the surgery's student has {value!r} here, this student {mine!r}",
                  f"set it to {value!r} (surgery keeps the teacher's shape; the RoPE base keeps its fastest frequencies)")
            for path, value, mine in _differences(want, have)][:5]


def _differences(want: Any, have: Any, path: tuple[object, ...] = ()) -> list[tuple[tuple[object, ...], Any, Any]]:
    if isinstance(want, dict) and isinstance(have, dict):
        return [d for key in sorted(set(want) | set(have), key=str)
                for d in _differences(want.get(key), have.get(key), (*path, key))]
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        return [d for i, (w, h) in enumerate(zip(want, have)) for d in _differences(w, h, (*path, i))]
    if isinstance(want, float) and isinstance(have, (int, float)) and abs(want - have) <= 1e-9 * max(1.0, abs(want)):
        return []
    return [] if want == have else [(path, want, have)]


def hf_teacher_issues(target: ExperimentTarget, base: tuple[object, ...], folder: Any) -> list[Issue]:
    """The ``files`` stage's half: a Hugging Face teacher's config.json against the student."""
    from caramba.engine.hf import CheckpointError, model_config_of

    at = (*base, *CONFIG, "teacher", "hf")
    try:
        teacher = model_config_of(folder)
    except (CheckpointError, OSError, KeyError, ValueError) as exc:
        return [Issue(at, f"{folder}: {exc}", "give a Llama checkpoint folder (config.json + *.safetensors)")]
    return pair_issues(base, target, teacher, at)
