"""What one finished run measured, flattened into named metrics for a comparison.

A run directory gives (names are what ``arms.csv`` and ``pairs.csv`` show):

* ``train_loss`` — the last training row's loss; ``val_loss`` — the last evaluation row's
  (``metrics.jsonl``; the trainer's estimate on its first ``eval_iters`` validation batches,
  which its coverage says); their per-step values are kept as curves for the figures;
* ``<benchmark>.nll``, ``<benchmark>.ppl`` — a perplexity benchmark (``perplexity.csv``;
  a model other than ``student`` adds ``[model]``); its tokens and coverage are kept as
  the metric's *coverage* (what the number was computed on);
* ``<benchmark>.kv_bytes@<cache>,B=<b>,L=<len>`` (and ``tensor_bytes``) — a memory
  benchmark's point; ``<benchmark>.<latency metric>@<cache>,B=<b>,P=<prompt>,G=<gen>``.

Every metric carries a unit and a direction (lower or higher is better), from its base
name (:data:`UNITS`), used by tables (bold best) and figures (axis labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caramba.engine.bench.artifacts.tables import read_csv
from caramba.engine.train.metrics.log import MetricsLog

# base metric → (unit for axis labels, True when higher is better)
UNITS: dict[str, tuple[str, bool]] = {
    "train_loss": ("nats/token", False), "val_loss": ("nats/token", False), "nll": ("nats/token", False),
    "ppl": ("perplexity", False), "kv_bytes": ("bytes", False), "tensor_bytes": ("bytes", False),
    "kv_bytes_per_token": ("bytes/token", False), "prefill_ms": ("ms", False), "ttft_ms": ("ms", False),
    "decode_ms_per_token": ("ms/token", False), "tokens_per_s": ("tokens/s", True), "e2e_tokens_per_s": ("tokens/s", True),
}
LATENCY = ("prefill_ms", "ttft_ms", "decode_ms_per_token", "tokens_per_s")
MEMORY = ("kv_bytes", "tensor_bytes")


def base_of(metric: str) -> str:
    """``ppl`` of ``perplexity.ppl``, ``kv_bytes`` of ``memory.kv_bytes@fp16,B=1,L=64``."""
    return metric.split("@", 1)[0].rsplit(".", 1)[-1].split("[", 1)[0]


def unit_of(metric: str) -> str:
    """The unit of a metric (``""`` when unknown)."""
    return UNITS.get(base_of(metric), ("", False))[0]


def higher_is_better(metric: str) -> bool:
    """True for throughput-like metrics; losses, bytes and times are lower-is-better."""
    return UNITS.get(base_of(metric), ("", False))[1]


@dataclass
class RunMetrics:
    """One run's named metrics, its loss curves, its memory rows and each metric's coverage."""

    run_id: str
    values: dict[str, float] = field(default_factory=dict)
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    memory: list[dict[str, Any]] = field(default_factory=list)
    coverage: dict[str, str] = field(default_factory=dict)


def read_run(run_dir: Path) -> RunMetrics:
    """Every metric of the finished run in ``run_dir`` (module docstring)."""
    out = RunMetrics(run_dir.name)
    rows = MetricsLog(run_dir / "metrics.jsonl").rows()
    for kind, key, name in (("train", "loss", "train_loss"), ("eval", "val_loss", "val_loss")):
        points = [(float(r["step"]), float(r[key])) for r in rows
                  if r.get("kind", "train") == kind and isinstance(r.get(key), (int, float)) and "step" in r]
        if points:
            out.curves[name] = ([s for s, _ in points], [v for _, v in points])
            out.values[name] = points[-1][1]
    art = run_dir / "artifacts"
    split_targets = None
    if (art / "perplexity.csv").is_file():
        for r in read_csv(art / "perplexity.csv"):
            name = r["benchmark"] + ("" if r.get("model") in (None, "student") else f"[{r['model']}]")
            for metric in ("nll", "ppl"):
                out.values[f"{name}.{metric}"] = float(r[metric])
                if r.get("tokens") is not None:
                    cover = f"{int(r['tokens']):,} tokens"
                    if r.get("coverage") is not None:
                        cover += f", {100 * float(r['coverage']):.1f}% of the validation split"
                        if float(r["coverage"]) > 0:
                            split_targets = int(r["tokens"]) / float(r["coverage"])
                    out.coverage[f"{name}.{metric}"] = cover
    if (art / "memory.csv").is_file():
        for r in read_csv(art / "memory.csv"):
            out.memory.append(r)
            for metric in MEMORY:
                if r.get(metric) is not None:
                    out.values[f"{r['benchmark']}.{metric}@{r['cache']},B={r['batch']},L={r['seq_len']}"] = float(r[metric])
    if (art / "latency.csv").is_file():
        for r in read_csv(art / "latency.csv"):
            point = f"{r['cache']},B={r['batch']},P={r['prompt_len']},G={r['gen_len']}"
            for metric in LATENCY:
                if r.get(metric) is not None:
                    out.values[f"{r['benchmark']}.{metric}@{point}"] = float(r[metric])
    if "val_loss" in out.values:
        out.coverage["val_loss"] = _val_loss_coverage(run_dir, split_targets)
    return out


def _val_loss_coverage(run_dir: Path, split_targets: float | None) -> str:
    """What the trainer's ``val_loss`` was computed on: its first ``eval_iters`` validation batches.

    That is an estimate on part of the split (the perplexity benchmark scores all of it
    by default), so the two numbers differ; saying so keeps them from being confused.
    """
    import json

    import yaml

    status = json.loads((run_dir / "status.json").read_text())
    manifest = yaml.safe_load((run_dir / "manifest.yml").read_text())
    target = next(t for t in manifest["targets"] if t["name"] == status["target"])
    run = next((r for r in target["runs"] if r["id"] == status["run"]), target["runs"][0])  # seeds share the settings
    iters = manifest.get("defaults", {}).get("logging", {}).get("eval_iters", 20)
    batch, block = run["train"]["batch_size"], run["train"]["block_size"]
    tokens = iters * batch * block
    share = f", {100 * min(tokens / split_targets, 1.0):.1f}% of the validation split" if split_targets else ""
    return f"trainer estimate: first {iters} batches × {batch} × {block} = {tokens:,} tokens{share}"
