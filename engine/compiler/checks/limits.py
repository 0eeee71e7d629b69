"""Bounded work: every count, width and estimate of a manifest stays under the workspace limits.

The limits live in ``caramba.yml`` (``limits:``, :class:`~caramba.workspace.config.LimitSettings`;
defaults fit one large GPU node) and are checked before anything is built, so a valid
manifest can never make the dry run or a run allocate without bound (``repeat: 10**18``,
``verify.batches: 2**63``). Three kinds of checks:

* every integer field, by its name (widths, vocabularies, sequence lengths, batches,
  steps, repeats), against its limit, and any integer against the 64-bit range;
* the layer count after ``repeat``/``n_cycles`` expansion;
* two estimates per experiment: parameters (a generous upper estimate from the layer
  widths: two largest widths squared ×4 per layer, × experts; vocabulary × width per
  embedding) and activation memory of a training step (batch × block × widest layer ×
  layers × 16 bytes).
"""

from __future__ import annotations

from typing import Any, Iterator

from pydantic import BaseModel

from caramba.engine.compiler.checks import Issue
from caramba.workspace.config import LimitSettings

INT64 = (1 << 63) - 1
CATEGORIES: dict[str, tuple[str, str]] = {}
for _limit, _words, _what in (
    ("max_repeat", ("repeat", "repeats", "n_cycles", "timed_runs", "warmup_runs"), "repeat count"),
    ("max_vocab", ("vocab_size", "n_classes"), "vocabulary / class count"),
    ("max_sequence", ("block_size", "max_seq_len", "prompt_lengths", "generation_lengths", "sequence_lengths",
                      "max_new_tokens", "chunk_size", "stride", "image_size", "residual_window"), "sequence length"),
    ("max_batch", ("batch_size", "batch_sizes", "batches", "num_batches", "eval_iters", "gradient_accumulation_steps",
                   "n_samples", "num_examples", "n_nodes", "patience"), "batch / example count"),
    ("max_steps", ("steps", "warmup_steps", "convergence_max_steps", "save_every", "eval_every", "n_timesteps"), "step count"),
):
    CATEGORIES.update({w: (_limit, _what) for w in _words})


def _is_width(name: str) -> bool:
    """Widths by name, also for the constructor kwargs of graph ops (``out_features``, ``hidden_size``)."""
    return name.startswith(("d_", "n_", "num_")) or name.endswith(("_dim", "_heads", "_features", "_channels", "_size", "_embeddings")) \
        or name in ("expand", "top_k", "channels", "patch_size")


def ints(node: Any, where: tuple[object, ...] = ()) -> Iterator[tuple[tuple[object, ...], str, int]]:
    """``(field path, field name, value)`` of every integer in a validated manifest."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if isinstance(value, int) and not isinstance(value, bool):
                yield (*where, name), name, value
            elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                yield from (((*where, name, i), name, v) for i, v in enumerate(value))
            else:
                yield from ints(value, (*where, name))
    elif isinstance(node, (list, tuple)):
        for index, item in enumerate(node):
            yield from ints(item, (*where, index))
    elif isinstance(node, dict):  # free-form mappings (a graph op's constructor kwargs): keys name the integers
        for key, item in node.items():
            if isinstance(item, int) and not isinstance(item, bool):
                yield (*where, key), str(key), item
            else:
                yield from ints(item, (*where, key))


def check_limits(manifest: BaseModel, limits: LimitSettings) -> list[Issue]:
    """Every value and estimate beyond ``limits`` (see the module docstring)."""
    issues: list[Issue] = []
    for where, name, value in ints(manifest):
        if "vars" in where[:1] or name == "seed" and abs(value) <= INT64:
            continue
        limit_name, what = CATEGORIES.get(name, ("max_width", "width") if _is_width(name) else ("", "integer"))
        limit = getattr(limits, limit_name) if limit_name else INT64
        if abs(value) > limit:
            fix = f"raise limits.{limit_name} in caramba.yml if you mean it" if limit_name else "use a 64-bit integer"
            issues.append(Issue(where, f"{name}={_short(value)} is beyond the {what} limit {limit:,}", f"use a smaller value, or {fix}"))
    if issues:
        return issues  # estimates on absurd values would only repeat them
    for t_index, target in enumerate(getattr(manifest, "targets", [])):
        model = getattr(getattr(getattr(target, "system", None), "config", None), "model", None)
        if model is not None:
            issues += _estimates(("targets", t_index), target, model, limits)
    return issues


def _short(value: int) -> str:
    text = str(value) if abs(value) < 10**30 else f"~1e{len(str(abs(value))) - 1}"
    return text


def _estimates(base: tuple[object, ...], target: Any, model: Any, limits: LimitSettings) -> list[Issue]:
    at = (*base, "system", "config", "model")
    count, params, widest = _walk(model, 1)
    issues: list[Issue] = []
    if count > limits.max_layers:
        issues.append(Issue(at, f"the model has {count:,} layers after repeats, beyond the limit {limits.max_layers:,}",
                            "lower repeat / n_cycles, or raise limits.max_layers in caramba.yml"))
    if params > limits.max_params:
        issues.append(Issue(at, f"the model has about {params:.3g} parameters (upper estimate), beyond the limit {limits.max_params:.3g}",
                            "shrink widths or layers, or raise limits.max_params in caramba.yml"))
    for r_index, run in enumerate(getattr(target, "runs", [])):
        train = run.train
        activations = float(train.batch_size) * train.block_size * max(widest, 1) * max(count, 1) * 16
        if activations > limits.max_activation_bytes:
            issues.append(Issue((*base, "runs", r_index, "train", "batch_size"),
                                f"one training step needs about {activations / 2**30:,.0f} GiB of activations (estimate: batch × block × "
                                f"width × layers × 16 B), beyond the limit {limits.max_activation_bytes / 2**30:,.0f} GiB",
                                "lower batch_size or block_size (use gradient_accumulation_steps), or raise limits.max_activation_bytes"))
    return issues


def _walk(node: Any, times: int) -> tuple[int, float, int]:
    """(layers, parameters, widest width) under ``node``, each layer counted ``times`` times."""
    widths = [v for name, v in _fields(node) if _is_width(name) and name not in ("n_heads", "n_kv_heads", "top_k", "n_experts")]
    children = node.children() if hasattr(node, "children") else []
    times *= getattr(node, "repeat", 1) if isinstance(getattr(node, "repeat", 1), int) else 1
    layers, params, widest = (0 if children else times), 0.0, max(widths, default=0)
    if not children and len(widths) >= 1:
        top = sorted(widths)[-2:]
        params += times * 4.0 * top[0] * top[-1] * getattr(node, "n_experts", 1)
    embedder = getattr(node, "embedder", None)
    if embedder is not None:
        params += float(getattr(embedder, "vocab_size", 0) or 0) * getattr(embedder, "d_model", 0)
    for child in children:
        c_layers, c_params, c_widest = _walk(child, times)
        layers, params, widest = layers + c_layers, params + c_params, max(widest, c_widest)
    topology = getattr(node, "topology", None)
    if topology is not None and not children:
        c_layers, c_params, c_widest = _walk(topology, times)
        layers, params, widest = c_layers, params + c_params, max(widest, c_widest)
    return layers, params, widest


def _fields(node: Any) -> Iterator[tuple[str, int]]:
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if isinstance(value, int) and not isinstance(value, bool):
                yield name, value
