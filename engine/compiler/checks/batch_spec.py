"""The batch-spec contract (framework-glue seed): what a dataset yields, what a target consumes.

A dataset *yields* a :class:`BatchSpec`: the kind of ``inputs`` (token ids, feature
vectors, images, a graph), their sizes (a vocabulary bound for token ids, a width, an
image shape) and the kind of ``targets`` (next tokens, class labels, node labels, none).
The task, the objective and the system *consume* one: a task names the input kinds it
accepts, an objective names its task, a system's network fixes the widths. The ``data``
check (``checks/data.py``) compares the two before anything is built.

Every registered dataset, task, objective and system has an entry here; a test fails
when a new registration lacks one, so the contract grows with the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TOKEN_DATASETS = ("dataset.tokens", "dataset.mqar", "dataset.copying", "dataset.selective_copying", "dataset.induction_heads")


@dataclass(frozen=True)
class BatchSpec:
    """What a batch holds.

    Attributes:
        inputs: ``tokens``, ``vectors``, ``images`` or ``graph``.
        targets: ``next_tokens``, ``classes``, ``node_classes`` or ``float``.
        vocab: token ids are below this bound (``tokens``; None: unknown).
        width: features per vector or per node (``vectors``, ``graph``).
        image: ``(channels, size)`` of square images (``images``).
        classes: number of classes (``classes``, ``node_classes``).
        source: the config field that fixes the sizes, relative to the component.
    """

    inputs: str
    targets: str
    vocab: int | None = None
    width: int | None = None
    image: tuple[int, int] | None = None
    classes: int | None = None
    source: tuple[str, ...] = ("config",)


#: task → the input kinds it accepts.
TASKS: dict[str, tuple[str, ...]] = {
    "task.language_modeling": ("tokens",),
    "task.classification": ("vectors", "images"),
    "task.node_classification": ("graph",),
    "task.denoising": ("vectors",),
}
#: objective → the task it computes the loss of, and the targets it needs (None: any).
OBJECTIVES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "objective.next_token_ce": (("task.language_modeling",), "next_tokens"),
    "objective.classification_ce": (("task.classification",), "classes"),
    "objective.node_ce": (("task.node_classification",), "node_classes"),
    "objective.diffusion": (("task.denoising",), None),
    "objective.mse": (("task.denoising", "task.classification"), "float"),
}
#: systems whose consumption is read from their network (``consumed``); system.graph reads
#: whatever keys its graph names, so it declares nothing.
SYSTEMS = ("system.language_model", "system.classifier", "system.node_classifier", "system.denoiser", "system.graph")


def yielded(ref: str, config: Any, token_bound: int | None) -> BatchSpec:
    """The batch spec of dataset ``ref`` (``token_bound``: the scanned bound of a token file)."""
    if ref == "dataset.tokens":
        return BatchSpec("tokens", "next_tokens", vocab=token_bound, source=("config", "path"))
    if ref in TOKEN_DATASETS:
        return BatchSpec("tokens", "next_tokens", vocab=config.vocab_size, source=("config", "vocab_size"))
    if ref == "dataset.synthetic_vectors":
        return BatchSpec("vectors", "classes", width=config.d_in, classes=config.n_classes, source=("config", "d_in"))
    if ref == "dataset.synthetic_images":
        return BatchSpec("images", "classes", image=(config.channels, config.image_size), classes=config.n_classes,
                         source=("config", "image_size"))
    if ref == "dataset.synthetic_graph":
        return BatchSpec("graph", "node_classes", width=config.n_features, classes=config.n_classes, source=("config", "n_features"))
    raise KeyError(ref)


def consumed(ref: str, config: Any) -> tuple[BatchSpec, tuple[str, ...]] | None:
    """What system ``ref`` consumes and the path (under ``system``) that fixes it; None: anything."""
    model = getattr(config, "model", None)
    kind = getattr(model, "type", None)
    if ref == "system.language_model" and hasattr(getattr(model, "embedder", None), "vocab_size"):
        return BatchSpec("tokens", "next_tokens", vocab=model.embedder.vocab_size), ("config", "model", "embedder", "vocab_size")
    if kind == "MLPClassifier":
        return BatchSpec("vectors", "classes", width=model.d_in, classes=model.n_classes), ("config", "model", "d_in")
    if kind == "ViTModel":
        image = (model.embedder.channels, model.embedder.image_size)
        return BatchSpec("images", "classes", image=image, classes=model.n_classes), ("config", "model", "embedder")
    if kind == "GCNModel":
        return BatchSpec("graph", "node_classes", width=model.d_in, classes=model.n_classes), ("config", "model", "d_in")
    if kind == "DiffusionModel":
        return BatchSpec("vectors", "classes", width=model.d_data), ("config", "model", "d_data")
    return None
