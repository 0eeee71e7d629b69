"""The compute budget: what a run costs before it starts, and what the session has spent.

Costs come from the dry run of a node's manifest (:class:`RunShape`: steps, tokens per
step, training FLOPs per token): a pilot or full-run manifest of ``n`` runs of ``s`` steps
costs ``n·s`` steps, ``n·s·tokens_per_step`` tokens, that many tokens times the FLOPs per
token, and those FLOPs over ``gpu_flops`` as GPU-hours. The :class:`Ledger` (kept in the
checkpoint) charges each run id once, *before* it starts; a run id already charged (the
same work again, found in the run store) costs nothing more. :meth:`Ledger.fits` is asked
before every run, pilots included, so the budget is never exceeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunShape:
    """What one run of a node's manifest trains (from the dry run)."""

    steps: int
    tokens_per_step: int
    flops_per_token: float

    @classmethod
    def of_plan(cls, plan: dict[str, Any]) -> "RunShape":
        """The shape of the first run of a ``dry_run_manifest`` target plan."""
        run = plan["runs"][0]
        steps = int(run["steps"])
        return cls(steps, int(run["tokens"]) // max(1, steps), float(run["flops_per_token"]["train_step"]))


@dataclass(frozen=True)
class Charge:
    """The cost of some runs: steps, tokens, FLOPs and GPU-hours."""

    steps: int
    tokens: int
    flops: float
    gpu_hours: float

    def __add__(self, other: "Charge") -> "Charge":
        return Charge(self.steps + other.steps, self.tokens + other.tokens, self.flops + other.flops,
                      self.gpu_hours + other.gpu_hours)

    def to_json(self) -> dict[str, Any]:
        """``{steps, tokens, flops, gpu_hours}``."""
        return {"steps": self.steps, "tokens": self.tokens, "flops": self.flops, "gpu_hours": self.gpu_hours}


def charge(shape: RunShape, runs: int, steps: int, gpu_flops: float) -> Charge:
    """The cost of ``runs`` runs of ``steps`` steps each of a manifest with ``shape``."""
    total_steps = runs * steps
    tokens = total_steps * shape.tokens_per_step
    flops = tokens * shape.flops_per_token
    return Charge(total_steps, tokens, flops, flops / gpu_flops / 3600.0)


class Ledger:
    """Charged runs and what is left of the compute budget (module docstring)."""

    def __init__(self, data: dict[str, Any], steps: int | None, gpu_hours: float | None) -> None:
        self.charged: dict[str, dict[str, Any]] = data  # run id → its charge (the checkpoint's dict, kept in place)
        self.budget_steps, self.budget_gpu_hours = steps, gpu_hours

    def spent(self) -> Charge:
        """Everything charged so far."""
        items = self.charged.values()
        return Charge(sum(c["steps"] for c in items), sum(c["tokens"] for c in items),
                      sum(c["flops"] for c in items), sum(c["gpu_hours"] for c in items))

    def new_cost(self, run_ids: list[str], each: Charge) -> Charge:
        """The cost of ``run_ids`` (each costing ``each``) not charged yet."""
        fresh = [r for r in run_ids if r not in self.charged]
        return Charge(each.steps * len(fresh), each.tokens * len(fresh), each.flops * len(fresh),
                      each.gpu_hours * len(fresh))

    def fits(self, cost: Charge) -> str | None:
        """None when ``cost`` fits what is left; otherwise why not."""
        spent = self.spent()
        if self.budget_steps is not None and spent.steps + cost.steps > self.budget_steps:
            return (f"would need {cost.steps:,} training steps but {self.budget_steps - spent.steps:,} of the "
                    f"{self.budget_steps:,}-step compute budget are left")
        if self.budget_gpu_hours is not None and spent.gpu_hours + cost.gpu_hours > self.budget_gpu_hours:
            return (f"would need {cost.gpu_hours:.3g} GPU-hours but {self.budget_gpu_hours - spent.gpu_hours:.3g} of the "
                    f"{self.budget_gpu_hours:g} GPU-hour compute budget are left")
        return None

    def left_steps(self) -> int | None:
        """Training steps left (None without a step budget)."""
        return None if self.budget_steps is None else self.budget_steps - self.spent().steps

    def charge(self, run_ids: list[str], each: Charge) -> None:
        """Charge every run of ``run_ids`` not charged yet."""
        for run_id in run_ids:
            self.charged.setdefault(run_id, each.to_json())
