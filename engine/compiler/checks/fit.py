"""Benchmarks and caches fit the model they measure.

* a quantised KV cache (q8/q4) cuts every cached head vector into ``cache.block_size``
  blocks: the block size must divide each cached head width (k, v; DBA's k_sem, k_geo,
  v) and be even for q4 — otherwise decoding fails after training;
* a model with a fixed position table (``max_seq_len``) cannot see longer sequences than
  the table holds: training windows, perplexity windows and latency prompts plus
  generated tokens must fit.
"""

from __future__ import annotations

from typing import Any, Iterator

from caramba.engine.compiler.checks import Issue
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget

QUANTISED = ("q8", "q4")


def check_fit(manifest: Manifest) -> list[Issue]:
    """Every cache block size that does not cut a head width, every sequence past the positions."""
    issues: list[Issue] = []
    for t_index, target in enumerate(manifest.targets):
        if isinstance(target, ExperimentTarget):
            issues += _target(("targets", t_index), target)
    return issues


def layers(node: Any) -> Iterator[Any]:
    """Every layer config under ``node`` (topologies and their children, depth first)."""
    yield node
    for child in node.children() if hasattr(node, "children") else []:
        yield from layers(child)


def head_widths(model: Any) -> dict[str, set[int]]:
    """Cached tensor name (``k``, ``v``, ``k_sem``, ``k_geo``) → the head widths it has."""
    widths: dict[str, set[int]] = {}
    topology = getattr(model, "topology", None)
    for layer in layers(topology) if topology is not None else []:
        if getattr(layer, "type", None) != "AttentionLayer" or not layer.n_heads:
            continue
        if layer.mode == "decoupled":
            parts = {"k_sem": layer.sem_dim, "k_geo": layer.geo_dim, "v": layer.v_dim or layer.d_model}
        else:
            parts = {"k": layer.d_model, "v": layer.d_model}
        for name, total in parts.items():
            if total:
                widths.setdefault(name, set()).add(total // layer.n_heads)
    return widths


def max_positions(model: Any) -> int | None:
    """The longest sequence the model's position table holds (None: no table)."""
    limits = [model.embedder.max_seq_len] if getattr(getattr(model, "embedder", None), "max_seq_len", None) else []
    topology = getattr(model, "topology", None)
    limits += [layer.max_seq_len for layer in (layers(topology) if topology is not None else [])
               if getattr(layer, "type", None) == "PositionalEmbeddingLayer"]
    return min(limits) if limits else None


def _target(base: tuple[object, ...], target: ExperimentTarget) -> list[Issue]:
    model = getattr(target.system.config, "model", None)
    if model is None:
        return []
    widths, limit = head_widths(model), max_positions(model)
    issues: list[Issue] = []
    for b_index, bench in enumerate(target.benchmarks):
        at = (*base, "benchmarks", b_index, "config")
        config = bench.config
        cache = getattr(config, "cache", None)
        block = cache.block_size if cache is not None else 32
        for name, kind in _kinds(config, cache):
            if kind not in QUANTISED:
                continue
            for width in sorted(widths.get(name, ())):
                if width % block or (kind == "q4" and block % 2):
                    good = [d for d in range(2, width + 1) if width % d == 0 and (kind != "q4" or d % 2 == 0)]
                    issues.append(Issue((*at, "cache", "block_size") if cache is not None else (*at, "type"),
                                        f"{kind} cache blocks of {block} values do not cut the {name} head width {width}"
                                        + (" (q4 packs two values per byte: blocks must be even)" if width % block == 0 else ""),
                                        f"set cache.block_size to one of {good}"))
        if limit is not None:
            issues += _positions(at, config, limit)
    if limit is not None:
        for r_index, run in enumerate(target.runs):
            if run.train.block_size > limit:
                issues.append(Issue((*base, "runs", r_index, "train", "block_size"),
                                    f"block_size={run.train.block_size} exceeds the model's {limit} positions (max_seq_len)",
                                    f"set block_size ≤ {limit}, or raise max_seq_len"))
    return issues


def _kinds(config: Any, cache: Any) -> list[tuple[str, str]]:
    """(cached tensor, storage kind) pairs a benchmark decodes with."""
    overrides = {"k_sem": getattr(cache, "sem_kind", None), "k_geo": getattr(cache, "geo_kind", None), "v": getattr(cache, "v_kind", None)}
    if config.type == "latency":
        if not config.use_cache:
            return []
        kinds = [cache.kind if cache is not None else config.cache_kind]
    elif config.type == "memory":
        kinds = list(config.quantization_modes) if config.measure_kvcache else []
    else:
        return []
    return [(name, overrides.get(name) or kind) for kind in kinds for name in ("k", "v", "k_sem", "k_geo")]


def _positions(at: tuple[object, ...], config: Any, limit: int) -> list[Issue]:
    if config.type == "perplexity" and config.block_size > limit:
        return [Issue((*at, "block_size"), f"perplexity windows of {config.block_size} exceed the model's {limit} positions",
                      f"set block_size ≤ {limit}")]
    if config.type == "latency":
        longest = max(config.prompt_lengths) + max(config.generation_lengths)
        if longest > limit:
            return [Issue((*at, "prompt_lengths"), f"a prompt of {max(config.prompt_lengths)} plus {max(config.generation_lengths)} "
                          f"generated tokens exceeds the model's {limit} positions", f"keep prompt + generation ≤ {limit}")]
    if config.type == "memory" and max(config.sequence_lengths) > limit:
        return [Issue((*at, "sequence_lengths"), f"a sequence of {max(config.sequence_lengths)} exceeds the model's {limit} positions",
                      f"keep sequence_lengths ≤ {limit}")]
    return []
