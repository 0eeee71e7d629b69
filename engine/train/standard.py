"""``trainer.standard``: end-to-end training of one model with one objective.

The trainer is a thin orchestrator of the collectors it owns:

* ``Stepper`` (``step.py``) — forward/backward/clip/update on the fast path;
* ``Recorder`` + ``MetricsLog`` + ``Sinks`` + ``Display`` (``metrics/``) — per-step
  JSONL, TensorBoard/W&B, the live view;
* ``Checkpoints`` (``checkpoint/``) — save_every / keep_last / save_best, resume;
* ``Stopping`` (``stopping.py``) — convergence and early stopping;
* ``Divergence`` (``divergence.py``) — a NaN/Inf loss or gradient: fail, skip or roll back;
* ``Strategy`` (``distributed/``) — one process, or DDP/FSDP2 ranks under torchrun: the
  wrap, this rank's share of each global batch, the cross-rank averages; only rank 0
  writes metrics and owns the display, checkpoints are DCP folders (``checkpoint/sharded.py``).

Determinism: the micro-batch of optimiser step ``s`` is batch ``s·A + m`` of the train
split (A = gradient_accumulation_steps), its dropout masks are drawn from a seed of
(run seed, micro-batch, first row) (``seeding.py``), the lr is a function of ``s``, and every
checkpoint carries the optimizer, scaler, stopping counters and RNG states — so a run
killed at any point and resumed from its last checkpoint ends with the same weights, bit
for bit on the CPU in deterministic mode.
"""

from __future__ import annotations

from typing import Any

import torch

from caramba.engine.train.checkpoint import Checkpoints, files
from caramba.engine.train.checkpoint.sharded import ShardedIO
from caramba.engine.train.distributed import DistContext, Strategy
from caramba.engine.train.distributed.quiet import Quiet
from caramba.engine.train.divergence import Divergence, Diverged
from caramba.engine.cancel import Cancelled
from caramba.engine.train.job import TrainJob, TrainResult
from caramba.engine.train.metrics import Display, MetricsLog, Sinks, device_peak, flops_per_token
from caramba.engine.train.metrics.finite import finite_metrics, finite_row
from caramba.engine.train.metrics.recorder import Recorder
from caramba.engine.train.optim import Schedule, build_optimizer, freeze
from caramba.engine.train.precision import Precision
from caramba.engine.train.seeding import micro_batch_seed, rng_state, set_rng_state
from caramba.engine.train.step import Stepper, use_compile
from caramba.engine.train.stopping import Stopping

FINAL_REASONS = ("converged", "early_stopping")


class StandardTrainer:
    """Train ``job.model`` end to end (see the module docstring). Takes no configuration."""

    def fit(self, job: TrainJob) -> TrainResult:
        """Train (resuming from the newest good checkpoint), evaluate, checkpoint; return the outcome."""
        train, logging, runtime = job.run.train, job.defaults.logging, job.defaults.runtime
        self.job, self.precision = job, Precision(train, job.device)
        self.strategy = strategy = job.strategy or Strategy(DistContext())
        model = job.model.to(device=job.device, dtype=self.precision.param_dtype)
        frozen = freeze(model, train.freeze)
        if frozen:
            job.announce(f"frozen: {frozen} parameter tensors (train.freeze)")
        if strategy.sharded and self.precision.scaler is not None:
            raise ValueError("fp16 loss scaling is not supported with strategy fsdp; use amp_dtype bfloat16")
        job.announce(strategy.describe())
        # ``forward`` runs the step (the DDP wrapper); ``model`` owns the parameters, names and checkpoints.
        compiled = use_compile(job.device, job.apples_to_apples, job.announce)
        if compiled and not getattr(job.objective, "compilable", True):  # e.g. distillation: host-side teacher-cache lookups
            compiled = False
            job.announce(f"torch.compile: off for {type(job.objective).__name__} (eager: it is not compilable)")
        forward, model = strategy.wrap(model, job.device, compiled)
        self.optimizer = build_optimizer(model, train, job.device)
        self.schedule = Schedule(train.schedule, job.run.steps)
        self.stopping = Stopping(train, job.run.steps)
        if train.early_stopping is not None and logging.eval_every == 0:
            raise ValueError("train.early_stopping needs evaluations: set defaults.logging.eval_every > 0")
        io = ShardedIO(strategy.ctx, self.optimizer) if runtime.distributed is not None or strategy.ctx.distributed else None
        self.checkpoints = Checkpoints(job.run_dir / "checkpoints", runtime, job.announce, io)
        self.divergence = Divergence(train.on_divergence, job.announce)
        if compiled and not strategy.compiles_step(compiled):
            job.announce("torch.compile: per block under FSDP2 (each shard unit compiled, then sharded; root and objective eager)")
        stepper = Stepper(forward, job.objective, self.optimizer, self.precision, train,
                          strategy.compiles_step(compiled), self.divergence.skips,
                          lambda last: strategy.sync(forward, last))
        step, resumed, stopped = self._resume(model) if runtime.resume else (0, None, None)
        main = strategy.ctx.main
        self.log = MetricsLog(job.run_dir / "metrics.jsonl") if main else Quiet()
        kept = self.log.rewind(step) if main else []
        self.evaluated = strategy.ctx.broadcast(
            {r["step"]: {k: v for k, v in r.items() if k.endswith("_loss")} for r in kept if r.get("kind") == "eval"})
        self.sinks = Sinks(logging, job.run_dir, job.run_id, job.run.model_dump(mode="json"), job.announce) if main else Quiet()
        peak = device_peak(job.device, self.precision.compute_dtype)
        peak = peak * strategy.ctx.world_size if peak else peak
        recorder = Recorder(job.device, flops_per_token(model, train.block_size), peak, self.stopping.needs_every_loss)
        total = self.stopping.max_steps if stopped is None else step
        self.display = Display(logging.instrument, job.console, total, step, job.run_id) if main else Quiet()
        accum, evals = train.gradient_accumulation_steps, logging.eval_every
        seed = int(job.run.seed)  # type: ignore[arg-type]  # lowered runs carry one seed; dropout masks derive from it
        # A pageable host→device copy synchronises the stream before it starts (CUDA
        # semantics), which would stall the host every step: on CUDA batches are always
        # pinned (said once here, so nobody is surprised); there is no flag for it.
        pin = job.device.type == "cuda"
        if pin:
            job.announce("pinned host memory: on (CUDA fast path: a pageable copy would sync every step)")
        last_train_loss: float | None = None
        diverged: str | None = None
        try:
            while step < total and stopped is None:
                if strategy.ctx.any(job.cancelled()):  # every rank stops at the same step
                    stopped = "cancelled"
                    break
                factor = self.schedule.factor(step) * self.divergence.lr_scale
                for group in self.optimizer.param_groups:
                    group["lr"] = group["base_lr"] * factor
                micros = strategy.micro_batches(step, train.batch_size, accum)
                batches = [strategy.load(job.dataset, micro, train.batch_size, job.device, pin) for micro in micros]
                seeds = [micro_batch_seed(seed, micro.index, micro.rows[0]) for micro in micros]
                loss, norm, metrics, count = strategy.reduce(*stepper.step(batches, seeds))
                step += 1
                recorder.record(step, self.optimizer.param_groups[0]["lr"], loss, norm,
                                {**metrics, "skipped": 1.0} if stepper.skipped else metrics, count)
                self.divergence.on_step(step, stepper.skipped)
                eval_due = evals > 0 and step % evals == 0
                if recorder.due() or eval_due or self.checkpoints.due(step) or step == total:
                    rows = recorder.flush()
                    self._emit(rows)
                    bad = Divergence.first(rows)
                    if bad is not None:
                        step = self._rollback(model, bad)
                        continue
                    finite = [r["loss"] for r in rows if not r.get("skipped")]
                    last_train_loss = finite[-1] if finite else last_train_loss
                    for loss_value in finite:
                        stopped = stopped or self.stopping.on_train_loss(loss_value)
                    job.progress(step)
                if eval_due:
                    stopped = self._evaluate(model, step, last_train_loss)[1] or stopped
                if self.checkpoints.due(step) and step < total:
                    self._save(model, step, stopped, {"train_loss": last_train_loss} if last_train_loss is not None else {})
            rows = recorder.flush()
            self._emit(rows)
            bad = Divergence.first(rows)
            if bad is not None:
                self.divergence.diverged_step = bad["step"]
                raise Diverged(Divergence.describe(bad))
            final = self._final(model, step, stopped, last_train_loss)
        except Diverged as exc:
            self._emit(recorder.flush())
            diverged, stopped, final = str(exc), "diverged", finite_metrics({} if last_train_loss is None else {"train_loss": last_train_loss})
            step = self.divergence.diverged_step
            job.announce(f"[bold red]{exc}[/]")
        finally:
            self.display.stop()
            self.sinks.close()
            self.log.close()
        self.log.to_parquet(job.run_dir / "metrics.parquet")
        return TrainResult(step=step, stopped=stopped or "completed", resumed_from=resumed, metrics=final,
                           artifacts=self.checkpoints.paths(), notes=self.sinks.notes, diverged=diverged)

    def _resume(self, model: torch.nn.Module) -> tuple[int, int | None, str | None]:
        """Load the newest good checkpoint, if any: (step, resumed_from, stop reason it ended with)."""
        loaded = self.checkpoints.latest(model, self.job.device)
        if loaded is None:
            return 0, None, None
        step, state = loaded
        if state["optimizer"] is not None:  # None: loaded with the weights (DCP)
            self.optimizer.load_state_dict(state["optimizer"])
        self.precision.load_state_dict(state["scaler"])
        self.stopping.load_state_dict(state["stopping"])
        self.checkpoints.best_value = state["best"]
        self.divergence.lr_scale = state.get("lr_scale", 1.0)
        set_rng_state(state["rng"])
        self.job.announce(f"[bold]resuming from step {step}[/]")
        stopped = state["stopped"] if state["stopped"] in FINAL_REASONS else None
        return step, step, stopped

    def _state(self, step: int, stopped: str | None) -> dict[str, Any]:
        accum = self.job.run.train.gradient_accumulation_steps
        optimizer = self.optimizer.state_dict() if self.checkpoints.io is files else None  # DCP saves it itself
        return {"step": step, "optimizer": optimizer, "scaler": self.precision.state_dict(),
                "rng": rng_state(), "sampler": {"next_batch": step * accum}, "stopping": self.stopping.state_dict(),
                "best": self.checkpoints.best_value, "stopped": stopped, "lr_scale": self.divergence.lr_scale}

    def _save(self, model: torch.nn.Module, step: int, stopped: str | None, metrics: dict[str, float]) -> None:
        self.checkpoints.save(step, model, self._state(step, stopped), finite_metrics(metrics))

    def _rollback(self, model: torch.nn.Module, row: dict[str, Any]) -> int:
        """Reload the newest checkpoint after ``row`` diverged, with a lower lr; the step to go on from.

        Raises :class:`Diverged` when the policy is ``fail``, retries are spent or there is
        no checkpoint (see ``divergence.py``)."""
        self.divergence.diverged_step = row["step"]
        scale = self.divergence.rollback(row)
        loaded = self.checkpoints.latest(model, self.job.device)
        if loaded is None:
            raise Diverged(f"{Divergence.describe(row)}; no checkpoint to roll back to (set defaults.runtime.save_every)")
        step, state = loaded
        self.optimizer.load_state_dict(state["optimizer"])
        self.precision.load_state_dict(state["scaler"])
        self.stopping.load_state_dict(state["stopping"])
        set_rng_state(state["rng"])
        self.log.rewind(step)
        self.evaluated = {s: m for s, m in self.evaluated.items() if s <= step}
        self._emit([{"kind": "event", "step": step, "event": "rollback", "diverged_at": row["step"], "lr_scale": scale}])
        self.job.announce(f"[yellow]{Divergence.describe(row)}: rolled back to step {step}, lr × {scale:g} "
                          f"(rollback {self.divergence.rollbacks} of {self.divergence.config.max_retries})[/]")
        return step

    def _emit(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        rows = [finite_row(r) for r in rows]
        self.log.append(rows)
        self.sinks.write(rows)
        train_rows = [r for r in rows if r["kind"] == "train"]
        if train_rows:
            self.display.update(train_rows[-1]["step"], train_rows[-1]["loss"], train_rows[-1]["tokens_per_s"])

    def _evaluate(self, model: torch.nn.Module, step: int, train_loss: float | None) -> tuple[dict[str, float], str | None]:
        """Validation loss at ``step``: logged, offered as best checkpoint, fed to early stopping.

        Returns the evaluation's metrics and the early-stopping verdict."""
        job, train = self.job, self.job.run.train
        try:
            val = self.strategy.mean_loss(model, job.objective, job.dataset, job.defaults.logging.eval_iters, train.batch_size,
                                          job.device, self.precision.autocast)
        except Cancelled:  # SIGTERM mid-evaluation: stop like between steps (checkpoint, then `cancelled`)
            return {}, "cancelled"
        metrics = {k: v for k, v in (("val_loss", val), ("train_loss", train_loss)) if v is not None}
        self._emit([{"kind": "eval", "step": step, **metrics}])
        self.evaluated[step] = metrics
        self.checkpoints.offer_best(step, metrics, model, self._state(step, None))
        return metrics, self.stopping.on_eval(metrics)

    def _final(self, model: torch.nn.Module, step: int, stopped: str | None, train_loss: float | None) -> dict[str, float]:
        """Final evaluation and checkpoint (unless cancelled before any step)."""
        metrics: dict[str, float] = {"train_loss": train_loss} if train_loss is not None else {}
        if stopped != "cancelled":
            metrics = self._evaluate(model, step, train_loss)[0] if step not in self.evaluated else self.evaluated[step]
        if step > 0:
            self._save(model, step, stopped, metrics)
        return metrics
