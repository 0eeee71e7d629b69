"""``analyse(arms, spec)``: every metric of every arm summarised, every pair of arms tested.

For each metric an arm's value list holds one number per seed that reported it; its
:class:`~caramba.engine.bench.compare.stats.Summary` is n, mean, sd and the 95% CI.
For each pair of arms (A before B in arm order, the baseline first) and each metric both
report, a :class:`~caramba.engine.bench.compare.stats.Difference` (B − A, Welch's t-test).
Metric order: the primary metric, then training losses, held-out perplexity, then the
rest as first seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caramba.engine.bench.compare.arms import Arm
from caramba.engine.bench.compare.metrics import RunMetrics, higher_is_better, read_run
from caramba.engine.bench.compare.stats import Difference, Summary, summarize, welch


@dataclass
class ArmResult:
    """One arm: its runs' metrics (per seed) and the summary of every metric."""

    name: str
    runs: list[RunMetrics]
    values: dict[str, list[float]] = field(default_factory=dict)
    summaries: dict[str, Summary] = field(default_factory=dict)

    @property
    def run_ids(self) -> list[str]:
        """The ids of the arm's seeds."""
        return [r.run_id for r in self.runs]

    @property
    def protocol(self) -> str | None:
        """The evaluation protocol of the arm's runs (the first that has one; seeds share the data)."""
        return next((r.protocol for r in self.runs if r.protocol), None)

    def coverage(self, metric: str) -> str | None:
        """What the metric was computed on (e.g. ``4,096 tokens, 100.0% of the split``), when known."""
        return next((r.coverage[metric] for r in self.runs if metric in r.coverage), None)


@dataclass
class PairResult:
    """B − A for one metric."""

    metric: str
    a: str
    b: str
    difference: Difference


@dataclass
class Comparison:
    """Everything a comparison reports (module docstring)."""

    arms: list[ArmResult]
    pairs: list[PairResult]
    metrics: list[str]
    primary: str
    direction: str
    baseline: str
    question: str = ""
    provenance: list[tuple[str, str]] = field(default_factory=list)

    def arm(self, name: str) -> ArmResult:
        """The arm called ``name``."""
        return next(a for a in self.arms if a.name == name)

    def pair(self, metric: str, a: str, b: str) -> PairResult | None:
        """The test of ``b − a`` on ``metric`` (None when either arm lacks it)."""
        return next((p for p in self.pairs if (p.metric, p.a, p.b) == (metric, a, b)), None)

    @property
    def protocol(self) -> str | None:
        """The held-out tokens every arm was scored on, said once; arms with different protocols are each named."""
        found = {a.name: a.protocol for a in self.arms if a.protocol}
        if len(set(found.values())) <= 1:
            return next(iter(found.values()), None)
        return "differs between arms: " + "; ".join(f"{name}: {p}" for name, p in found.items())

    def better(self, metric: str) -> str:
        """``minimize`` or ``maximize``: the declared direction for the primary metric, else by the metric's kind."""
        if metric == self.primary:
            return self.direction
        return "maximize" if higher_is_better(metric) else "minimize"

    def to_json(self) -> dict[str, Any]:
        """The comparison as JSON: arms with per-metric summaries and seeds, pairs with their tests."""
        return {
            "question": self.question, "primary": self.primary, "direction": self.direction, "baseline": self.baseline,
            "heldout": self.protocol,
            "test": "Welch's t-test (two-sided, unequal variances), 95% confidence intervals (Student t)",
            "provenance": [{"run_id": r, "manifest_digest": d} for r, d in self.provenance],
            "arms": [{"name": a.name, "runs": a.run_ids,
                      "metrics": {m: {**a.summaries[m].to_json(), "values": a.values[m], "coverage": a.coverage(m)}
                                  for m in self.metrics if m in a.summaries}} for a in self.arms],
            "pairs": [{"metric": p.metric, "a": p.a, "b": p.b, **p.difference.to_json()} for p in self.pairs],
        }


def default_primary(metrics: list[str]) -> str:
    """The headline metric when none is declared: a perplexity, else val_loss, else the first."""
    for candidate in [m for m in metrics if m.endswith(".ppl")] + ["val_loss", "train_loss"]:
        if candidate in metrics:
            return candidate
    return metrics[0]


def _order(metrics: list[str], primary: str) -> list[str]:
    rank = {"train_loss": 1, "val_loss": 1}

    def key(m: str) -> int:
        if m == primary:
            return 0
        return rank.get(m, 2 if m.endswith((".ppl", ".nll")) else 3)

    return sorted(metrics, key=key)  # stable: first-seen order within a rank


def analyse(arms: list[Arm], spec: Any = None, provenance: list[tuple[str, str]] | None = None) -> Comparison:
    """Summaries and pairwise tests of ``arms`` (module docstring); ``spec``: a manifest's comparison block."""
    if spec is not None and spec.reference in [a.name for a in arms]:
        arms = sorted(arms, key=lambda a: a.name != spec.reference)
    results = []
    seen: list[str] = []
    for arm in arms:
        result = ArmResult(arm.name, [read_run(d) for d in arm.dirs])
        for run in result.runs:
            for metric, value in run.values.items():
                result.values.setdefault(metric, []).append(value)
                if metric not in seen:
                    seen.append(metric)
        result.summaries = {m: summarize(v) for m, v in result.values.items()}
        results.append(result)
    if not seen:
        raise ValueError(f"the runs {', '.join(r for a in results for r in a.run_ids)} recorded no metrics to compare")
    primary = spec.primary if spec is not None else default_primary(seen)
    direction = spec.direction if spec is not None else ("maximize" if higher_is_better(primary) else "minimize")
    metrics = _order(seen, primary)
    pairs = [PairResult(m, a.name, b.name, welch(a.values[m], b.values[m]))
             for i, a in enumerate(results) for b in results[i + 1:] for m in metrics if m in a.values and m in b.values]
    return Comparison(results, pairs, metrics, primary, direction, results[0].name,
                      spec.question if spec is not None else "", provenance or [])
