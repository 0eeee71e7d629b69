"""The records of an experiment tree: the goal, one node per manifest variant, and its life cycle.

A development session searches over **manifest variants**. Each variant is a :class:`Node`:
the manifest it runs (a YAML file in the session folder, with its content hash), what
changed against its parent (:class:`Change` list), the hypothesis and what would refute
it, its status, the runs it started and their per-seed metrics, and what it cost.

A node's status only moves forward along :data:`TRANSITIONS`::

    proposed ──► invalid | over_budget | piloting | failed        (running: the root only)
    piloting ──► pruned | running | failed
    running  ──► done | failed

``invalid``, ``over_budget``, ``pruned``, ``done`` and ``failed`` are final. A variant that
failed validation is never revived: its fixed version is a new node whose ``fixed_from``
names the invalid one, so the tree keeps what was wrong and how it was repaired.
The root (the starting manifest) may go straight from ``proposed`` to ``running``: it is
the reference the variants are measured against, not a hypothesis to pilot.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from caramba.engine.bench.compare.stats import summarize


class Strict(BaseModel):
    """Base of every tree record: unknown fields are an error (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Goal(Strict):
    """What the session optimises: the question, the primary metric and its direction, an optional target."""

    question: str
    metric: str = Field(description="the primary metric as the runs report it, e.g. val_loss or val_ppl")
    direction: Literal["min", "max"]
    target: float | None = Field(None, description="stop once the best node's 95% CI is beyond this value")
    seeds: int = Field(3, ge=1, description="full runs per node (replicates for the confidence intervals)")

    def better(self, a: float, b: float) -> bool:
        """True when value ``a`` is strictly better than ``b`` in this goal's direction."""
        return a < b if self.direction == "min" else a > b


class NodeStatus(str, Enum):
    """Where a node is in its life cycle (module docstring)."""

    proposed = "proposed"
    invalid = "invalid"
    over_budget = "over_budget"
    piloting = "piloting"
    pruned = "pruned"
    running = "running"
    done = "done"
    failed = "failed"


S = NodeStatus
TRANSITIONS: dict[NodeStatus, frozenset[NodeStatus]] = {
    S.proposed: frozenset({S.invalid, S.over_budget, S.piloting, S.failed, S.running}),
    S.piloting: frozenset({S.pruned, S.running, S.failed}),
    S.running: frozenset({S.done, S.failed}),
    S.invalid: frozenset(), S.over_budget: frozenset(), S.pruned: frozenset(), S.done: frozenset(), S.failed: frozenset(),
}
NEEDS_REASON = frozenset({S.invalid, S.over_budget, S.pruned, S.failed})
ACTIVE = frozenset({S.proposed, S.piloting, S.running})


class Change(Strict):
    """One difference between a parent manifest and a child: a dotted path and its old and new value.

    ``kind`` says whether the path exists on both sides (``changed``), only in the child
    (``added``, ``old`` is None) or only in the parent (``removed``, ``new`` is None), so an
    absent value is never confused with an explicit ``null``.
    """

    path: str = Field(description="dotted manifest path, list indices as numbers: model.layers.0.n_heads")
    old: Any = None
    new: Any = None
    kind: Literal["changed", "added", "removed"] = "changed"


class MetricSummary(Strict):
    """One metric of one node over its seeds: the values, their runs, and the Student-t 95% CI of the mean."""

    values: list[float]
    run_ids: list[str]
    n: int
    mean: float
    sd: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @classmethod
    def of(cls, values: list[float], run_ids: list[str]) -> "MetricSummary":
        """Summarise per-seed ``values`` (one per run, same order as ``run_ids``) with :func:`summarize`."""
        if len(values) != len(run_ids):
            raise ValueError(f"{len(values)} values but {len(run_ids)} run ids: give one run id per value")
        s = summarize([float(v) for v in values])
        return cls(values=[float(v) for v in values], run_ids=list(run_ids), n=s.n, mean=s.mean, sd=s.sd,
                   ci_low=s.ci_low, ci_high=s.ci_high)


class Cost(Strict):
    """What a node cost: compute (dry-run estimate, then actual) and the LLM usage spent on it."""

    steps: int = 0
    tokens: int = 0
    flops: float = 0.0
    gpu_hours: float = 0.0
    llm_usd: float = 0.0
    llm_tokens: int = 0


class Node(Strict):
    """One manifest variant in the tree (module docstring); ``id`` is assigned by ``Tree.add``."""

    id: str = ""
    parent: str | None = None
    iteration: int = Field(0, ge=0, description="0 for the root, k for a node proposed in the k-th iteration")
    manifest: str = Field(description="the node's YAML, relative to the session folder")
    manifest_hash: str = ""
    diff: list[Change] = Field(default_factory=list)
    hypothesis: str = ""
    refuted_if: str = ""
    status: NodeStatus = NodeStatus.proposed
    reason: str | None = Field(None, description="why invalid/over_budget/pruned/failed (the validator's or pilot's words)")
    fixed_from: str | None = Field(None, description="the invalid node this one repairs")
    pilot_run_ids: list[str] = Field(default_factory=list)
    run_ids: list[str] = Field(default_factory=list)
    metrics: dict[str, MetricSummary] = Field(default_factory=dict)
    versus_parent: dict[str, Any] | None = None
    cost: Cost = Field(default_factory=Cost)
    analysis: str | None = None
    proposed_by: str | None = None
    expanded: bool = False

    def metric(self, name: str) -> MetricSummary | None:
        """The node's summary of metric ``name`` (None when it has none)."""
        return self.metrics.get(name)
