"""Findings: which arm leads an experiment on a metric, over time.

A *finding* answers a standing question, "in experiment E, which arm has the lowest M?".
Walking the experiment's succeeded runs in the order their results became known, the
leader changes whenever a run beats the best so far; each leader is one finding, valid
from the moment its run finished until the moment a better run finished (its
``invalid_at``). The history is a pure function of the runs, so re-syncing recomputes
exactly the same findings (same ids) and repairs any half-written ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from caramba.memory.runfacts import LABELS, LOWER_IS_BETTER, RunFacts


@dataclass
class Finding:
    """One leader of an (experiment, metric) question and its validity interval."""

    experiment: str
    metric: str
    leader: RunFacts
    runners_up: list[RunFacts]
    valid_at: str
    invalid_at: str = ""
    superseded_by: str = ""

    @property
    def id(self) -> str:
        """Stable id: the question and the leading run."""
        key = f"{self.experiment}|{self.metric}|{self.leader.run_id}"
        return "finding:" + hashlib.sha256(key.encode()).hexdigest()[:20]

    @property
    def question(self) -> str:
        """The standing question this finding answers."""
        return f"which arm of {self.experiment} has the lowest {LABELS.get(self.metric, self.metric)}"

    def text(self) -> str:
        """The finding as a sentence with its numbers, run ids, variants and interval."""
        leader = self.leader
        label = LABELS.get(self.metric, self.metric)
        variants = f" ({', '.join(leader.variants)}; {', '.join(leader.component_names()[:6])})" if leader.variants else ""
        parts = [f"Finding: in experiment {self.experiment} the lowest {label} ({self.metric}) is "
                 f"{leader.metrics[self.metric]:.4g}, by arm {leader.arm}{variants}, run {leader.run_id}"
                 + (f" seed {leader.seed}" if leader.seed is not None else "") + "."]
        if self.runners_up:
            parts.append("Other arms: " + "; ".join(
                f"{r.arm} {r.metrics[self.metric]:.4g} (run {r.run_id}" + (f", {', '.join(r.variants)}" if r.variants else "") + ")"
                for r in self.runners_up) + ".")
        parts.append(f"Valid from {self.valid_at}" + (f" until {self.invalid_at}, superseded by run {self.superseded_by}."
                                                     if self.invalid_at else " (current)."))
        return " ".join(parts)


def history(runs: list[RunFacts], metric: str) -> list[Finding]:
    """The leaders of ``metric`` among ``runs`` (one experiment), oldest first."""
    done = sorted((r for r in runs if r.status == "succeeded" and metric in r.metrics and r.when),
                  key=lambda r: (r.when, r.run_id))
    findings: list[Finding] = []
    best_per_arm: dict[str, RunFacts] = {}
    leader: RunFacts | None = None
    for run in done:
        arm_best = best_per_arm.get(run.arm)
        if arm_best is None or run.metrics[metric] < arm_best.metrics[metric]:
            best_per_arm[run.arm] = run
        if leader is None or run.metrics[metric] < leader.metrics[metric]:
            if findings:
                findings[-1].invalid_at, findings[-1].superseded_by = run.when, run.run_id
            leader = run
            findings.append(Finding(run.experiment, metric, run, [], run.when))
        findings[-1].runners_up = sorted((r for a, r in best_per_arm.items() if a != leader.arm),
                                         key=lambda r: r.metrics[metric])
    return findings


def all_findings(runs: list[RunFacts]) -> list[Finding]:
    """Every finding of every tracked metric of ``runs`` (one experiment)."""
    return [finding for metric in LOWER_IS_BETTER for finding in history(runs, metric)]
