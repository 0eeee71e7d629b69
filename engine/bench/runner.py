"""``run_benchmarks``: a target's ``benchmarks:`` list against its models, then the artifacts.

Each benchmark runs for each of its ``models`` ``repeats`` times; its per-repeat rows
are aggregated (mean and spread across repeats, see ``stats.py``). A benchmark that
raises is recorded (error and traceback in ``report.json`` and ``report.md``) and the
others still run and are written; the caller marks the run failed when the returned
list of failed benchmark ids is not empty.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import Progress
from torch import nn

from caramba.engine.bench.artifacts import write_artifacts
from caramba.engine.bench.latency import LATENCY_KEYS, LATENCY_METRICS, latency
from caramba.engine.bench.memory import MEMORY_KEYS, MEMORY_METRICS, memory
from caramba.engine import cancel
from caramba.engine.bench.models import resolve_model, vocab_size
from caramba.engine.bench.perplexity import perplexity, validation_tokens
from caramba.engine.bench.results import BenchResults, Row
from caramba.engine.bench.stats import aggregate
from caramba.engine.manifest.benchmarks import Benchmark

log = logging.getLogger("caramba")
GROUPING = {"perplexity": (["benchmark", "model"], ["nll", "ppl"]), "latency": (LATENCY_KEYS, LATENCY_METRICS),
            "memory": (MEMORY_KEYS, MEMORY_METRICS)}


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode (no dropout) for the block, the previous mode restored after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def grid_size(bench: Benchmark) -> int:
    """Measurements one repeat of one model takes (for the progress bar)."""
    c = bench.config
    if c.type == "latency":
        return len(c.prompt_lengths) * len(c.generation_lengths) * len(c.batch_sizes)
    if c.type == "memory":
        return len(c.sequence_lengths) * len(c.batch_sizes) * len(c.quantization_modes)
    return 1


def measure(bench: Benchmark, model: nn.Module, dataset: Any, data_path: str | None, device: torch.device,
            advance: Callable[[], None]) -> list[Row]:
    """One repeat of one benchmark on one model."""
    c = bench.config
    if c.type == "perplexity":
        row = perplexity(model, validation_tokens(c, dataset, data_path), c, device)
        advance()
        return [row]
    vocab = vocab_size(model, device)
    if c.type == "latency":
        return latency(model, vocab, c, device, advance)
    return memory(model, vocab, c, device, advance)


def run_one(bench: Benchmark, target: Any, models: dict[str, nn.Module], dataset: Any, device: torch.device,
            progress: Progress) -> tuple[list[Row], list[Row]]:
    """(aggregated rows, raw rows) of one benchmark over its models and repeats."""
    task = progress.add_task(f"{bench.id}", total=len(bench.models) * bench.repeats * grid_size(bench))
    data_path = getattr(getattr(getattr(target, "data", None), "config", None), "path", None)
    raw: list[Row] = []
    for name in bench.models:
        model = resolve_model(name, models, target, device)
        with evaluating(model), torch.no_grad():
            for repeat in range(bench.repeats):
                cancel.check(f"benchmark {bench.id} ({name}, repeat {repeat} of {bench.repeats})")
                rows = measure(bench, model, dataset, data_path, device, lambda: progress.advance(task))
                raw += [{"benchmark": bench.id, "model": name, "repeat": repeat, **r} for r in rows]
    keys, metrics = GROUPING[bench.config.type]
    return aggregate(raw, keys, metrics), raw


def run_benchmarks(target: Any, models: dict[str, nn.Module], dataset: Any, run_dir: Path, run_id: str, digest: str,
                   device: torch.device | str) -> list[str]:
    """Run ``target.benchmarks`` and write the artifacts to ``run_dir/artifacts``; the failed ids."""
    device = torch.device(device)
    results = BenchResults(provenance=[(run_id, digest)], meta=environment(device))
    with Progress(console=Console(stderr=True), transient=True) as progress:
        for bench in target.benchmarks:
            try:
                rows, raw = run_one(bench, target, models, dataset, device, progress)
            except Exception as exc:  # noqa: BLE001 — the isolation boundary: record it, keep benchmarking
                log.error("benchmark %s failed: %s", bench.id, exc)
                results.failures.append({"benchmark": bench.id, "type": bench.config.type,
                                         "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
                continue
            results.add(bench.config.type, rows, raw)
    results.metrics = training_metrics(Path(run_dir))
    write_artifacts(Path(run_dir) / "artifacts", results)
    return [f["benchmark"] for f in results.failures]


def training_metrics(run_dir: Path) -> list[Row]:
    """The rows of ``metrics.jsonl`` (empty when the run logged none); a ``trainer.upcycle``
    phase's rows carry ``objective: distillation`` (their loss is not next-token CE)."""
    from caramba.engine.train.metrics.log import MetricsLog

    rows = MetricsLog(run_dir / "metrics.jsonl").rows()
    return [{**r, "objective": "distillation"} for r in rows] if distills(run_dir) else rows


def distills(run_dir: Path) -> bool:
    """True for a ``trainer.upcycle`` phase (its run's ``manifest.yml``): its losses are the
    distillation objective (block distance, or KL + CE), not next-token CE."""
    import yaml

    path = run_dir / "manifest.yml"
    if not path.is_file():
        return False
    targets = (yaml.safe_load(path.read_text()) or {}).get("targets") or [{}]
    trainer = targets[0].get("trainer")
    return (trainer.get("ref") if isinstance(trainer, dict) else trainer) == "trainer.upcycle"


def environment(device: torch.device) -> dict[str, Any]:
    """Where the numbers were measured (device name, torch version)."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    return {"device": str(device), "device_name": name, "torch": torch.__version__}
