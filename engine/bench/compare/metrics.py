"""What one finished run measured, flattened into named metrics for a comparison.

A run directory gives (names are what ``arms.csv`` and ``pairs.csv`` show):

* ``train_loss`` — the last training row's loss; ``val_loss`` — the last evaluation row's
  (``distill_train_loss`` / ``distill_val_loss`` for a ``trainer.upcycle`` phase, whose loss
  is the distillation objective — block MSE or KL+CE — not comparable with next-token CE)
  (``metrics.jsonl``; the trainer's estimate on the first ``eval_iters × batch_size``
  windows of the evaluation protocol, which its coverage says); their per-step values
  are kept as curves for the figures;
* ``<benchmark>.nll``, ``<benchmark>.ppl`` — a perplexity benchmark (``perplexity.csv``;
  a model other than ``student`` adds ``[model]``); what it scored (the whole protocol,
  or its own windows and why they differ) is the metric's *coverage*;
* ``<benchmark>.kv_bytes@<cache>,B=<b>,L=<len>`` (and ``tensor_bytes``) — a memory
  benchmark's point; ``<benchmark>.<latency metric>@<cache>,B=<b>,P=<prompt>,G=<gen>``;
  like perplexity, a model other than ``student`` adds ``[model]`` (``memory[teacher].kv_bytes@…``).

The run's evaluation protocol (``heldout.json``, ``engine/data/heldout.py``) is kept as
``protocol``: the one description of the held-out tokens, printed once; each metric's
coverage then only says which part of it the number used.

Every metric carries a unit and a direction (lower or higher is better), from its base
name (:data:`UNITS`), used by tables (bold best) and figures (axis labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caramba.engine.bench.artifacts.tables import read_csv
from caramba.engine.bench.runner import distills
from caramba.engine.data.heldout import HeldOut
from caramba.engine.train.metrics.log import MetricsLog

# base metric → (unit for axis labels, True when higher is better)
UNITS: dict[str, tuple[str, bool]] = {
    "train_loss": ("nats/token", False), "val_loss": ("nats/token", False), "nll": ("nats/token", False),
    "distill_train_loss": ("objective", False), "distill_val_loss": ("objective", False),
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
    protocol: str | None = None


def read_run(run_dir: Path) -> RunMetrics:
    """Every metric of the finished run in ``run_dir`` (module docstring)."""
    out = RunMetrics(run_dir.name)
    rows = MetricsLog(run_dir / "metrics.jsonl").rows()
    prefix = "distill_" if distills(run_dir) else ""
    for kind, key, name in (("train", "loss", f"{prefix}train_loss"), ("eval", "val_loss", f"{prefix}val_loss")):
        points = [(float(r["step"]), float(r[key])) for r in rows
                  if r.get("kind", "train") == kind and isinstance(r.get(key), (int, float)) and "step" in r]
        if points:
            out.curves[name] = ([s for s, _ in points], [v for _, v in points])
            out.values[name] = points[-1][1]
    art = run_dir / "artifacts"
    heldout = _heldout(run_dir)
    out.protocol = heldout.describe() if heldout is not None else None
    if (art / "perplexity.csv").is_file():
        for r in read_csv(art / "perplexity.csv"):
            name = r["benchmark"] + _model(r)
            for metric in ("nll", "ppl"):
                out.values[f"{name}.{metric}"] = float(r[metric])
                if r.get("tokens") is not None:
                    out.coverage[f"{name}.{metric}"] = _perplexity_coverage(r, heldout)
    if (art / "memory.csv").is_file():
        for r in read_csv(art / "memory.csv"):
            if _model(r) == "":
                out.memory.append(r)  # the figures draw the run's own model
            for metric in MEMORY:
                if r.get(metric) is not None:
                    out.values[f"{r['benchmark']}{_model(r)}.{metric}@{r['cache']},B={r['batch']},L={r['seq_len']}"] = float(r[metric])
    if (art / "latency.csv").is_file():
        for r in read_csv(art / "latency.csv"):
            point = f"{r['cache']},B={r['batch']},P={r['prompt_len']},G={r['gen_len']}"
            for metric in LATENCY:
                if r.get(metric) is not None:
                    out.values[f"{r['benchmark']}{_model(r)}.{metric}@{point}"] = float(r[metric])
    if "val_loss" in out.values:
        out.coverage["val_loss"] = _val_loss_coverage(run_dir, heldout)
    return out


def _model(row: dict[str, Any]) -> str:
    """``""`` for the run's own model (``student``), ``[teacher]`` (or ``[<path>]``) for another a benchmark measured."""
    return "" if row.get("model") in (None, "", "student") else f"[{row['model']}]"


def _heldout(run_dir: Path) -> HeldOut | None:
    """The run's evaluation protocol (``heldout.json``; None for data without one, or a run from before it)."""
    import json

    path = run_dir / "heldout.json"
    return HeldOut.from_json(json.loads(path.read_text())) if path.is_file() else None


def _perplexity_coverage(row: dict[str, Any], heldout: HeldOut | None) -> str:
    """``all 301 windows`` when the benchmark scored the whole protocol; otherwise what it scored and why that differs."""
    tokens = int(row["tokens"])
    block, stride = int(row.get("block_size") or 0), int(row.get("stride") or 0)
    if heldout is not None and (block, stride, tokens) == (heldout.block_size, heldout.block_size, heldout.tokens):
        return heldout.share(heldout.windows)
    share = f", {100 * float(row['coverage']):.1f}% of the validation split" if row.get("coverage") is not None else ""
    why = []
    if heldout is not None and block and block != heldout.block_size:
        why.append(f"windows of {block}, not the protocol's {heldout.block_size}")
    if block and stride and stride != block:
        why.append(f"stride {stride}")
    if heldout is not None and block == heldout.block_size and tokens < heldout.tokens:
        why.append("num_batches caps it")
    return f"{tokens:,} tokens{share}" + (f" (not the protocol: {'; '.join(why)})" if why else "")


def _val_loss_coverage(run_dir: Path, heldout: HeldOut | None) -> str:
    """What the trainer's ``val_loss`` was computed on: the protocol's first ``eval_iters × batch_size`` windows.

    That is an estimate on part of the protocol when the split has more windows (the
    perplexity benchmark scores all of them by default); saying so keeps the two apart.
    """
    import json

    import yaml

    status = json.loads((run_dir / "status.json").read_text())
    manifest = yaml.safe_load((run_dir / "manifest.yml").read_text())
    target = next(t for t in manifest["targets"] if t["name"] == status["target"])
    run = next((r for r in target["runs"] if r["id"] == status["run"]), target["runs"][0])  # seeds share the settings
    iters = manifest.get("defaults", {}).get("logging", {}).get("eval_iters", 20)
    batch, block = run["train"]["batch_size"], run["train"]["block_size"]
    if heldout is None:
        return f"trainer estimate: {iters} batches × {batch} × {block} = {iters * batch * block:,} tokens"
    return f"trainer estimate: {heldout.share(iters * batch)} = {min(iters * batch, heldout.windows) * block:,} tokens"
