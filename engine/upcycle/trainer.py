"""``trainer.upcycle``: the blockwise and global distillation phases (see ``engine/manifest/upcycle.py``).

One run is one phase (``train.phase``). The trainer:

1. starts the student from the DBA surgery of the teacher when ``surgery: true`` and the run
   has no ``init_from`` (the first phase; ``artifacts/surgery.json`` holds the per-layer
   report); later phases start from the previous run's student through ``init_from``;
2. measures the teacher-vs-student report (``report.py``) before training — kept in
   ``artifacts/upcycle_before.json`` so a resumed run reports the true start;
3. trains:

   * ``blockwise`` — for each block i in order, every parameter frozen but block i's, a
     :class:`StandardTrainer` sub-run in ``blocks/block_<i>/`` with the
     :class:`BlockwiseObjective`; the run's ``steps`` are split evenly over the blocks
     (:func:`block_steps`) and ``train.convergence_*`` apply per block. Each
     sub-run checkpoints and resumes like a standard run, so a killed blockwise run
     resumes at the same block and step; a finished block leaves ``done.json`` and is
     reloaded, not retrained. The teacher's activations come from one bounded
     :class:`TeacherCache` shared by all blocks. Afterwards the blocks' metrics are merged
     into the run's ``metrics.jsonl`` (rows carry ``block``; steps run on across blocks)
     and the student is checkpointed in the run's own ``checkpoints/`` for the next phase;
   * ``global`` — one :class:`StandardTrainer` run with the :class:`GlobalObjective`
     (every parameter trainable, ``train.param_groups`` / ``freeze`` apply);

4. measures the report again and writes ``artifacts/upcycle_report.json``: the phase, the
   teacher, ``before`` and ``after``, and the teacher-cache statistics.

On several ranks (``caramba run --nproc N``) every rank runs the phase on its share of each
global batch, as ``trainer.standard`` does (the run's :class:`Strategy`): the global phase
wraps the student with DDP or FSDP2; the blockwise phase keeps the student replicated and
wraps only the block being trained in DDP (``distill/unit.py``). The teacher is replicated
or sharded as ``runtime.distributed.teacher`` says (placed by the run session); the reports
split their batches over the ranks and add the sums; rank 0 alone writes the artifacts,
``done.json``, the merged metrics and the phase's final checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from caramba.engine.manifest.upcycle import UpcycleConfig
from caramba.engine.train.checkpoint import Checkpoints
from caramba.engine.train.distributed import DistContext, Strategy
from caramba.engine.train.distributed.teacher import whole_state
from caramba.engine.train.job import TrainJob, TrainResult
from caramba.engine.train.metrics import MetricsLog
from caramba.engine.train.optim.groups import freeze
from caramba.engine.train.precision import Precision
from caramba.engine.train.standard import StandardTrainer
from caramba.engine.upcycle.blocks import Blocks
from caramba.engine.upcycle.distill import BlockwiseObjective, GlobalObjective, KeyedDataset, TeacherCache
from caramba.engine.upcycle.distill.unit import BlockStrategy, BlockUnit
from caramba.engine.upcycle.report import describe, fidelity
from caramba.engine.upcycle.teacher import Teacher

STOPPED_EARLY = ("cancelled", "diverged")


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def dba_shape(model: nn.Module) -> dict[str, Any]:
    """(sem_dim, geo_dim, v_dim, gate) of the student's first DBA attention layer, for the surgery."""
    for module in model.modules():
        if hasattr(module, "q_sem") and hasattr(module, "q_geo"):
            return {"sem_dim": module.q_sem.out_features, "geo_dim": module.q_geo.out_features,
                    "v_dim": module.o_proj.in_features, "gate": module.gate_proj is not None}
    raise ValueError("trainer.upcycle surgery: the student has no decoupled (DBA) attention layer; "
                     "set surgery: false, or give the student mode: decoupled attention")


def block_steps(steps: int, blocks: int) -> list[int]:
    """The run's ``steps`` split over the blocks as evenly as possible (the first blocks take the remainder)."""
    return [steps // blocks + (1 if index < steps % blocks else 0) for index in range(blocks)]


class UpcycleTrainer:
    """Distil ``job.teacher`` into ``job.model`` for one phase (see the module docstring)."""

    def __init__(self, **config: Any) -> None:
        self.config = UpcycleConfig.model_validate(config)

    def fit(self, job: TrainJob) -> TrainResult:
        """Run the phase ``job.run.train.phase``; returns the sub-trainer's outcome plus the report."""
        teacher: Teacher | None = job.teacher
        if teacher is None:
            raise ValueError("trainer.upcycle needs a teacher (trainer.config.teacher)")
        phase = job.run.train.phase
        dtype = Precision(job.run.train, job.device).param_dtype
        self.ranks = (job.strategy or Strategy(DistContext())).ctx
        if not teacher.sharded:  # placed by the session (engine/train/distributed/teacher.py); a sharded one stays put
            teacher.model.to(device=job.device, dtype=dtype)
        if self.config.surgery and job.run.init_from is None:
            self._surgery(job, teacher)
        job.model.to(device=job.device, dtype=dtype)
        before = self._before(job, teacher)
        job.announce(describe(f"before {phase}", before))
        cache: TeacherCache | None = None
        if phase == "blockwise":
            result, cache = self._blockwise(job, teacher)
        elif phase == "global":
            c = self.config
            result = StandardTrainer().fit(replace(job, objective=GlobalObjective(
                teacher.model, c.temperature, c.alpha, c.intermediate_blocks, c.intermediate_weight)))
        else:
            raise ValueError(f"trainer.upcycle runs phase blockwise or global, not {phase!r}")
        if result.stopped in STOPPED_EARLY:
            return result
        after = self._report(job, teacher)
        job.announce(describe(f"after {phase}", after))
        stats = {} if cache is None else {"hits": cache.hits, "misses": cache.misses, "capacity_batches": cache.capacity,
                                          "held_bytes": cache.nbytes()}
        self._write(job.run_dir / "artifacts" / "upcycle_report.json",
               {"phase": phase, "teacher": teacher.description, "before": before, "after": after, "teacher_cache": stats})
        metrics = {**result.metrics, "kl": after["kl"], "top1_agreement": after["top1_agreement"],
                   "student_nll": after["student_nll"], "teacher_nll": after["teacher_nll"]}
        return replace(result, metrics=metrics)

    def _report(self, job: TrainJob, teacher: Teacher) -> dict[str, Any]:
        return fidelity(job.model, teacher.model, job.dataset, self.config.report_batches, job.run.train.batch_size, job.device,
                        self.ranks)

    def _before(self, job: TrainJob, teacher: Teacher) -> dict[str, Any]:
        """The report at the phase's start, measured once (a resumed run reads it back)."""
        path = job.run_dir / "artifacts" / "upcycle_before.json"
        if self.ranks.broadcast(path.is_file()):  # rank 0 decides: every rank measures, or none
            return dict(self.ranks.broadcast(json.loads(path.read_text()) if self.ranks.main else None))
        report = self._report(job, teacher)
        self._write(path, report)
        return report

    def _write(self, path: Path, data: Any) -> None:
        """Write an artifact (rank 0 owns the run's files)."""
        if self.ranks.main:
            _write(path, data)

    def _surgery(self, job: TrainJob, teacher: Teacher) -> None:
        from caramba.engine.upcycle.surgery import surgery_from

        shape = dba_shape(job.model)
        source = {k: v.detach().float().cpu() for k, v in whole_state(teacher.model).items()}
        done = surgery_from(teacher.config, source, shape["sem_dim"], shape["geo_dim"], shape["gate"], shape["v_dim"])
        job.model.load_state_dict(done.student.state_dict(), strict=True)
        self._write(job.run_dir / "artifacts" / "surgery.json", {"teacher": teacher.description, **shape, "kv_ratio": done.kv_ratio,
                                                           "layers": [r.as_dict() for r in done.report]})
        kept = ", ".join(f"{r.kept:.3f}" for r in done.report)
        job.announce(f"surgery from {teacher.description}: attention-logit energy kept per layer [{kept}], "
                     f"KV cache × {done.kv_ratio:.3f} of the teacher's")

    def _blockwise(self, job: TrainJob, teacher: Teacher) -> tuple[TrainResult, TeacherCache | None]:
        c, model, ranks = self.config, job.model, self.ranks
        blocks = Blocks(model)
        strategy = job.strategy or Strategy(DistContext())
        agree = ranks.any if teacher.sharded else None  # a sharded teacher's forwards are collectives
        cache = TeacherCache(teacher.model, c.distill_target, c.cache_batches, agree) if c.cache_teacher_outputs else None
        dataset = KeyedDataset(job.dataset) if cache is not None else job.dataset
        train = job.run.train.model_copy(update={"freeze": []})
        shares = block_steps(job.run.steps, blocks.count)
        offset, resumed, rows = 0, None, []
        result = TrainResult(step=0, stopped="completed", resumed_from=None)
        for index in range(blocks.count):
            folder = job.run_dir / "blocks" / f"block_{index:02d}"
            done = folder / "done.json"
            self._train_only(model, blocks.block_prefix(index), job.run.train.freeze)
            if ranks.broadcast(done.is_file()):
                Checkpoints(folder / "checkpoints", job.defaults.runtime, job.announce).latest(model, job.device)
                result = TrainResult(**json.loads(done.read_text()))
                job.announce(f"blockwise: block {index + 1}/{blocks.count} done earlier (step {result.step}, {result.stopped})")
            else:
                job.announce(f"[bold]blockwise: block {index + 1}/{blocks.count}[/] ({c.loss} on the {c.distill_target} output)")
                objective = BlockwiseObjective(teacher.model, index, c.distill_target, c.loss, cache)
                run = job.run.model_copy(update={"train": train, "steps": shares[index]})
                sub = replace(job, objective=objective, dataset=dataset, run=run, run_dir=folder,
                              run_id=f"{job.run_id} block {index + 1}/{blocks.count}",
                              progress=lambda step, at=offset: job.progress(at + step),
                              strategy=BlockStrategy(strategy, BlockUnit(model, index, c.distill_target)))
                folder.mkdir(parents=True, exist_ok=True)
                result = StandardTrainer().fit(sub)
                if result.stopped in STOPPED_EARLY:
                    return replace(result, step=offset + result.step), cache
                self._write(done, {"step": result.step, "stopped": result.stopped, "resumed_from": result.resumed_from,
                              "metrics": result.metrics})
            resumed = resumed if resumed is not None else (None if result.resumed_from is None else offset + result.resumed_from)
            if ranks.main:
                rows += [{**r, "block": index, "step": offset + r.get("step", 0)}
                         for r in MetricsLog(folder / "metrics.jsonl").rows()]
            offset += result.step
        self._train_only(model, None, job.run.train.freeze)
        final = Checkpoints(job.run_dir / "checkpoints", job.defaults.runtime, job.announce)
        if ranks.main:  # the merged metrics and the phase's student (replicated: rank 0's copy is every rank's)
            log = MetricsLog(job.run_dir / "metrics.jsonl")
            log.rewind(0)
            log.append(rows)
            log.close()
            final.save(offset, model, {"step": offset, "phase": "blockwise", "stopped": result.stopped}, result.metrics)
        ranks.barrier()
        return TrainResult(step=offset, stopped=result.stopped, resumed_from=resumed, metrics=result.metrics,
                           artifacts=final.paths()), cache

    @staticmethod
    def _train_only(model: nn.Module, prefixes: list[str] | None, frozen: list[str]) -> None:
        """Trainable: the parameters under ``prefixes`` (all when None), minus the run's ``train.freeze``."""
        for name, param in model.named_parameters():
            param.requires_grad_(prefixes is None or any(name.startswith(p) for p in prefixes))
        if frozen:
            freeze(model, frozen)
