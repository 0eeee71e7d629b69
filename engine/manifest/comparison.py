"""``comparison:``: the question a manifest's targets answer together, as arms of seeds.

Each arm is an experiment target (its runs, usually one per seed, are the replicates), or
``target/run``: one run of a target and its seeds (``student/global``: the last phase of a
chained ``trainer.upcycle`` target, whose runs are phases, not seeds);
``baseline`` is the arm every other is compared against (default: the first);
``primary`` names the metric the question is about and ``direction`` which way is better.
``caramba run M.yml`` runs every arm and then writes the comparison; ``caramba compare
M.yml`` writes it again from the run store. Metric names are those of a run
(``engine/bench/compare/metrics.py``): ``val_loss``, ``train_loss``, or
``<benchmark id>.<metric>`` (e.g. ``perplexity.ppl``, ``memory.kv_bytes@fp16,B=1,L=256``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import StrictModel

# the metrics a run reports: training metrics, and per benchmark type the columns a comparison reads
RUN_METRICS = ("train_loss", "val_loss")
BENCHMARK_METRICS = {
    "perplexity": ("nll", "ppl"),
    "memory": ("kv_bytes", "tensor_bytes"),
    "latency": ("prefill_ms", "ttft_ms", "decode_ms_per_token", "tokens_per_s"),
}


class ComparisonConfig(StrictModel):
    """Arms (experiment targets, seeds as replicates), baseline, primary metric and its direction."""

    question: str = Field(default="", description="the research question the comparison answers (shown in reports)")
    arms: list[str] = Field(min_length=2, description="experiment target names, one arm each (their runs are the seeds), "
                            "or target/run for one run of a target and its seeds (e.g. student/global)")
    baseline: str | None = Field(default=None, description="the arm the others are compared against (default: the first)")
    primary: str = Field(default="val_loss", description="headline metric: val_loss, train_loss or <benchmark id>.<metric>")
    direction: Literal["minimize", "maximize"] = Field(default="minimize", description="which way the primary metric is better")

    @property
    def reference(self) -> str:
        """The baseline arm (``baseline`` or the first arm)."""
        return self.baseline or self.arms[0]


def arm_parts(arm: str) -> tuple[str, str | None]:
    """``(target, run id or None)`` of an arm: ``teacher`` → (teacher, None); ``student/global`` → (student, global)."""
    target, _, run = arm.partition("/")
    return target, run or None
