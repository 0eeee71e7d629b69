"""The dry run of a ``trainer.upcycle`` target: what each phase does and what the teacher costs.

Each run's plan says its phase in words (surgery, blockwise block count and steps per
block, global KD settings) and adds two memory lines to its total:

* ``teacher weights`` — the teacher's parameters at the run's dtype (built on the meta
  device from its target when the teacher is a run of this manifest; a Hugging Face teacher
  is counted as the student's size, said in a note), per rank: divided by the ranks when
  ``runtime.distributed.teacher`` shards it;
* ``teacher cache`` — blockwise with ``cache_teacher_outputs``: ``cache_batches`` ×
  (blocks × batch × block_size × d_model × bytes), the bound of :class:`TeacherCache`.

A blockwise run under fsdp keeps its student replicated (``distill/unit.py``): its weights are
counted whole on every rank. A plan that no longer fits the device with the teacher is refused.
"""

from __future__ import annotations

from typing import Any

import torch

from caramba.engine.manifest.targets import ExperimentTarget
from caramba.engine.plan.measure import DTYPE_BYTES
from caramba.engine.plan.report import TargetPlan
from caramba.engine.upcycle.blocks import layout
from caramba.engine.upcycle.distill.cache import batch_bytes


def _teacher_params(target: ExperimentTarget, manifest: Any, plan: TargetPlan) -> int:
    from caramba.engine.model.build import build_system

    teacher = target.trainer.config.teacher
    owner = next((t for t in manifest.experiments() if t.name == teacher.target), None) if teacher.run else None
    if owner is None:
        plan.notes.append("teacher weights are counted at the student's size (the teacher is not a target of this manifest)")
        return plan.params_total
    with torch.device("meta"):
        model = build_system(owner.system.ref, owner.system.config)
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def annotate(target: ExperimentTarget, plan: TargetPlan, manifest: Any) -> None:
    """Rewrite each run's phases and add the teacher's memory (see the module docstring)."""
    config = target.trainer.config
    shape = layout(target.system.config.model.model_dump(mode="json", exclude_none=True))
    teacher = _teacher_params(target, manifest, plan)
    distributed = manifest.defaults.runtime.distributed
    for run_plan, run in zip(plan.runs, target.runs):
        size = DTYPE_BYTES[run.train.dtype]
        memory = run_plan.memory_bytes
        sharded = run_plan.ranks > 1 and distributed is not None and distributed.teacher_placement == "sharded"
        memory["teacher weights"] = -(-teacher * size // run_plan.ranks) if sharded else teacher * size
        if run.train.phase == "blockwise" and run_plan.strategy == "fsdp":  # the student is replicated in this phase
            memory["total"] -= memory.pop("gathered", 0) + memory["weights"]
            memory["weights"] = plan.params_total * size
            memory["total"] += memory["weights"]
        start = [p for p in run_plan.phases if p.startswith("start from")]
        rest = [p for p in run_plan.phases if not p.startswith(("start from", "train "))]
        if not start and config.surgery:
            start = ["start from the DBA surgery of the teacher"]
        if run.train.phase == "blockwise":
            per = run.steps / shape.blocks
            each = f"{per:g}" if per == int(per) else f"{run.steps // shape.blocks}–{run.steps // shape.blocks + 1}"
            what = (f"blockwise: {shape.blocks} blocks × {each} steps ({config.loss} on the {config.distill_target} "
                    "output, the other blocks frozen)")
            if config.cache_teacher_outputs:
                one = batch_bytes(shape.blocks, run.train.batch_size, run.train.block_size, shape.d_model, size)
                memory["teacher cache"] = config.cache_batches * one
                what += f", teacher cache ≤ {config.cache_batches} batches × {one / 2**20:.2f} MiB"
        else:
            what = f"global KD: {run.steps} steps, α={config.alpha:g}·τ²·KL at τ={config.temperature:g} + (1−α)·CE"
            if config.intermediate_blocks:
                what += f" + {config.intermediate_weight:g}·MSE of blocks {config.intermediate_blocks}"
        memory["total"] = memory.get("total", 0) + memory["teacher weights"] + memory.get("teacher cache", 0)
        if run_plan.ranks > 1:
            what += f"; teacher {'sharded over' if sharded else 'replicated on'} {run_plan.ranks} ranks"
        run_plan.phases = [*start, what, "teacher-vs-student report (before and after)", *rest]
        capacity = run_plan.device_memory_bytes
        if capacity is not None and memory["total"] > capacity and not any(f"run {run.id} " in r for r in plan.refusals):
            plan.refusals.append(f"run {run.id} needs {memory['total'] / 2**30:.1f} GiB per rank with its teacher "
                                 f"({run_plan.strategy}, {run_plan.ranks} rank(s)) but a device has {capacity / 2**30:.1f} GiB")
