"""Data ↔ model: the dataset yields what the task, the objective and the system consume.

Compares each experiment's :func:`~caramba.engine.compiler.checks.batch_spec.yielded`
spec with what its task accepts, what its objective trains on and what its system's
network consumes (:func:`~caramba.engine.compiler.checks.batch_spec.consumed`): the kind
of inputs, the vocabulary (every token id must have an embedding row), vector widths,
image shapes and class counts. A token file's vocabulary bound comes from the ``files``
stage (``token_bounds``: target index → bound); without it the vocabulary is not checked.
"""

from __future__ import annotations

from caramba.engine.compiler.checks import Issue
from caramba.engine.compiler.checks.batch_spec import OBJECTIVES, TASKS, BatchSpec, consumed, yielded
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget

WORDS = {"tokens": "token ids", "vectors": "feature vectors", "images": "images", "graph": "a graph",
         "next_tokens": "next-token targets", "classes": "class labels", "node_classes": "node labels", "float": "float regression targets"}


def check_data(manifest: Manifest, token_bounds: dict[int, int] | None = None) -> list[Issue]:
    """Every mismatch between what each experiment's data yields and what it consumes."""
    issues: list[Issue] = []
    for t_index, target in enumerate(manifest.targets):
        if isinstance(target, ExperimentTarget):
            issues += _target(("targets", t_index), target, (token_bounds or {}).get(t_index))
    return issues


def _target(base: tuple[object, ...], target: ExperimentTarget, bound: int | None) -> list[Issue]:
    data_ref, task, objective = target.data.ref, target.task.ref, target.objective.ref
    spec = yielded(data_ref, target.data.config, bound)
    data_at = (*base, "data", *spec.source)
    accepts = TASKS[task]
    tasks_of_objective, needs = OBJECTIVES[objective]
    issues: list[Issue] = []
    if task not in tasks_of_objective:
        issues.append(Issue((*base, "objective"), f"{objective} computes the loss of {' or '.join(tasks_of_objective)}, "
                            f"but the task is {task}", f"use task: {tasks_of_objective[0]}, or an objective for {task} "
                            f"({', '.join(o for o, (ts, _) in OBJECTIVES.items() if task in ts)})"))
    if spec.inputs not in accepts:
        issues.append(Issue((*base, "task"), f"{task} consumes {' or '.join(WORDS[a] for a in accepts)}, but {data_ref} "
                            f"yields {WORDS[spec.inputs]}", f"use a dataset that yields {WORDS[accepts[0]]}, or the task that "
                            f"fits {data_ref} ({', '.join(t for t, kinds in TASKS.items() if spec.inputs in kinds)})"))
    elif needs is not None and needs != spec.targets:
        issues.append(Issue((*base, "objective"), f"{objective} trains on {WORDS[needs]}, but {data_ref} yields {WORDS[spec.targets]}",
                            f"use an objective that trains on {WORDS[spec.targets]}, or a dataset with {WORDS[needs]}"))
    wanted = consumed(target.system.ref, target.system.config)
    if wanted is not None:
        issues += _system(base, data_at, data_ref, spec, *wanted)
    return issues


def _system(base: tuple[object, ...], data_at: tuple[object, ...], data_ref: str, spec: BatchSpec,
            want: BatchSpec, model_at: tuple[str, ...]) -> list[Issue]:
    at = (*base, "system", *model_at)
    where = ".".join(model_at[1:])
    if spec.inputs != want.inputs:
        return [Issue((*base, "system", "ref"), f"the system's network consumes {WORDS[want.inputs]}, but {data_ref} yields "
                      f"{WORDS[spec.inputs]}", "pick a dataset and a system of the same kind (caramba presets shows one per family)")]
    issues: list[Issue] = []
    if spec.vocab is not None and want.vocab is not None and spec.vocab > want.vocab:
        issues.append(Issue(data_at, f"{data_ref} holds token ids up to {spec.vocab - 1}, but the model's vocabulary has "
                            f"{want.vocab} tokens ({where}), so ids ≥ {want.vocab} have no embedding",
                            f"set the model's vocab_size (and head d_out) to at least {spec.vocab}, or re-tokenise the data "
                            f"with a smaller vocabulary"))
    if spec.width is not None and want.width is not None and spec.width != want.width:
        issues.append(Issue(at, f"the network takes {want.width} features, but {data_ref} yields {spec.width}",
                            f"set {model_at[-1]}: {spec.width}, or change the dataset's width"))
    if spec.image is not None and want.image is not None and spec.image != want.image:
        (c, s), (wc, ws) = spec.image, want.image
        issues.append(Issue(at, f"the patch embedder takes {wc}×{ws}×{ws} images, but {data_ref} yields {c}×{s}×{s}",
                            f"set embedder channels: {c} and image_size: {s}"))
    if spec.classes is not None and want.classes is not None and spec.classes != want.classes:
        issues.append(Issue((*base, "system", "config", "model", "n_classes"),
                            f"the network predicts {want.classes} classes, but {data_ref} has {spec.classes}",
                            f"set n_classes: {spec.classes} (and the last layer's d_out)"))
    return issues
