"""``RunFacts``: what memory keeps about one run, read from its run directory.

From ``status.json``: id, experiment (the manifest name), arm (the target), run name,
manifest digest, status, reasons (the verdicts), start/finish times, step and artifacts.
From ``manifest.yml``: the seed and the run's components (see :mod:`caramba.memory.components`).
From ``metrics.jsonl``: the last evaluation's metrics, plus ``val_perplexity = exp(val_loss)``;
from ``artifacts/perplexity.csv``: the benchmark perplexity. Nothing here needs an LLM.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Metrics where lower is better; findings track the leader of each.
LOWER_IS_BETTER = ("val_perplexity", "val_loss", "bench_perplexity")
LABELS = {"val_perplexity": "validation perplexity", "val_loss": "validation loss", "train_loss": "training loss",
          "bench_perplexity": "benchmark perplexity"}


@dataclass
class RunFacts:
    """Structured facts about one run (see the module docstring)."""

    run_id: str
    experiment: str
    arm: str
    run: str
    status: str
    manifest_digest: str = ""
    seed: int | None = None
    started: str = ""
    finished: str = ""
    steps: int = 0
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    components: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (also what ``content_hash`` hashes)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunFacts":
        """The inverse of :meth:`to_json`."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def content_hash(self) -> str:
        """sha256 of the facts: a run is rewritten in memory only when this changes."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:24]

    @property
    def when(self) -> str:
        """When the run's result became known (its finish, else its start)."""
        return self.finished or self.started

    def component_names(self) -> list[str]:
        """Class names (the last part of each component's qualified name)."""
        return [c.rsplit(".", 1)[-1] for c in self.components]

    def report(self) -> str:
        """The run as one paragraph of text (the run's search chunk)."""
        parts = [f"Run {self.run_id}: experiment {self.experiment}, arm {self.arm}, run {self.run}"
                 + (f", seed {self.seed}" if self.seed is not None else "") + f"; {self.status}"
                 + (f" after {self.steps} steps" if self.steps else "") + (f" on {self.when}" if self.when else "") + "."]
        if self.variants:
            parts.append(f"Architecture variants: {', '.join(self.variants)}.")
        if self.components:
            parts.append(f"Components (classes): {', '.join(self.component_names())}.")
        if self.metrics:
            parts.append("Metrics: " + ", ".join(f"{LABELS.get(k, k)} ({k}) {v:.4g}" for k, v in sorted(self.metrics.items())) + ".")
        if self.reasons:
            parts.append("Verdicts: " + "; ".join(self.reasons) + ".")
        if self.manifest_digest:
            parts.append(f"Manifest sha256 {self.manifest_digest[:12]}.")
        return " ".join(parts)


def read_run(run_dir: Path) -> RunFacts:
    """The facts of the run in ``run_dir`` (which holds ``status.json``)."""
    from caramba.engine.store.record import RunRecord
    from caramba.memory.components import components

    record = RunRecord.load(run_dir)
    facts = RunFacts(run_id=record.id, experiment=record.manifest_name, arm=record.target, run=record.run,
                     status=record.status, manifest_digest=record.manifest_digest, started=record.started or "",
                     finished=record.finished or "", steps=record.step, reasons=list(record.reasons),
                     artifacts=sorted(_relative(a, run_dir) for a in record.artifacts))
    facts.metrics = _metrics(run_dir)
    manifest = run_dir / "manifest.yml"
    if manifest.is_file():
        facts.seed, facts.components, facts.variants = components(manifest)
    return facts


def _relative(path: str, run_dir: Path) -> str:
    try:
        return str(Path(path).relative_to(run_dir))
    except ValueError:
        return path


def _metrics(run_dir: Path) -> dict[str, float]:
    metrics: dict[str, float] = {}
    log = run_dir / "metrics.jsonl"
    if log.is_file():
        for line in log.read_text().splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("kind") == "eval":
                metrics.update({k: float(v) for k, v in row.items() if k not in ("kind", "step") and isinstance(v, (int, float))})
    if "val_loss" in metrics:
        metrics["val_perplexity"] = math.exp(min(metrics["val_loss"], 50.0))
    bench = run_dir / "artifacts" / "perplexity.csv"
    if bench.is_file():
        with bench.open() as handle:
            values = [float(row["perplexity"]) for row in csv.DictReader(handle) if row.get("perplexity")]
        if values:
            metrics["bench_perplexity"] = min(values)
    return metrics
