"""``RunSession``: one run from queued to a final status, in its run directory.

Order: write ``manifest.yml``, ``environment.json`` and ``heldout.json`` (the evaluation protocol), mark ``running`` (with the pid),
build the model (from the seed, then ``init_from`` weights when asked), dataset, objective and trainer, train (resuming from
the newest good checkpoint), verify, benchmark, then mark ``succeeded`` / ``failed`` /
``cancelled`` with reasons and the artifact paths. Every status change is an atomic
write of ``status.json``; a killed process leaves ``running`` behind, which the store
reports as failed ("process died at step N") until the run is started again.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import yaml
from rich.console import Console
from rich.markup import escape

from caramba.engine.cancel import Cancelled
from caramba.engine.compiler import Compiled
from caramba.engine.data.tokenizers import TokenizerUnavailable
from caramba.engine.manifest.targets import ExperimentTarget, Run
from caramba.engine.run import build
from caramba.engine.run.environment import environment
from caramba.engine.run.errors import RunInputError
from caramba.engine.store.atomic import write_json, write_text
from caramba.engine.store.hooks import run_ended
from caramba.engine.store.record import RunRecord
from caramba.engine.train.distributed import PEER_MARK, DistContext, PeerFailed, Strategy, is_peer_failure
from caramba.engine.train.job import TrainJob, TrainResult
from caramba.engine.train.precision import Precision
from caramba.engine.verify import Verdict, VerifyContext, run_verify


def now() -> str:
    """UTC timestamp, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunSession:
    """Executes one run of a target (see the module docstring)."""

    def __init__(self, compiled: Compiled, target: ExperimentTarget, run: Run, record: RunRecord, workspace: Path,
                 console: Console, cancelled: Any, strategy: Strategy | None = None) -> None:
        self.compiled, self.target, self.run, self.record = compiled, target, run, record
        self.workspace, self.console, self.cancelled = workspace, console, cancelled
        self.strategy = strategy or Strategy(DistContext())
        self.main = self.strategy.ctx.main  # only rank 0 writes status, logs and artifacts
        self.dir = Path(record.dir)
        log = (self.dir / "log.txt").open("a") if self.main else open(os.devnull, "w")
        self._log = Console(file=log, no_color=True, width=140, soft_wrap=True)

    def announce(self, message: str) -> None:
        """One line to the console and to ``log.txt`` (rank 0)."""
        if self.main:
            self.console.print(message)
            self._log.print(f"{now()} {message}")

    def _save(self) -> None:
        if self.main:
            self.record.save()

    def progress(self, step: int) -> None:
        """Record the completed step count in ``status.json``."""
        self.record.step = step
        self._save()

    def _manifest(self) -> dict[str, Any]:
        resolved = dict(self.compiled.resolved)
        target = next(t for t in resolved["targets"] if t["name"] == self.target.name)
        runs = [r for r in target["runs"] if r["id"] == self.run.id]
        init = self.run.init_from
        if init is not None and init.run is not None:  # self-contained: name the source by its run-store id
            from caramba.engine.run.init_from import run_dir_of

            try:
                source = run_dir_of(init, self.compiled, self.target, self.run, self.workspace).name
            except RunInputError:  # reported (and the run failed) when the weights load
                source = None
            if source is not None:
                runs = [{**r, "init_from": {**r["init_from"], "run": source, "target": None}} for r in runs]
        teacher = getattr(self.target.trainer.config, "teacher", None) if self.target.trainer.ref == "trainer.upcycle" else None
        if teacher is not None and teacher.run is not None:  # trainer.upcycle's teacher run, by its run-store id too
            from caramba.engine.run.init_from import run_dir_of

            try:
                source = run_dir_of(teacher, self.compiled, self.target, self.run, self.workspace).name
            except RunInputError:  # reported when the teacher loads
                source = None
            if source is not None:
                config = target["trainer"]["config"]
                target = {**target, "trainer": {**target["trainer"], "config": {
                    **config, "teacher": {**config["teacher"], "run": source, "target": None}}}}
        resolved.pop("comparison", None)  # its arms name targets this one-target manifest no longer has
        return {**resolved, "targets": [{**target, "runs": runs}], "entrypoints": {"default": self.target.name}}

    def execute(self) -> RunRecord:
        """Run to a final status; input errors raise :class:`RunInputError` after recording it."""
        record, train = self.record, self.run.train
        from caramba.engine.store.process import own_start_time

        record.status, record.started, record.finished, record.pid = "running", now(), None, os.getpid()
        record.pid_start = own_start_time()
        record.reasons, record.steps = [], self.run.steps
        self._save()
        if self.main:
            write_text(self.dir / "manifest.yml", yaml.safe_dump(self._manifest(), sort_keys=False))
        self.announce(f"[bold cyan]run {record.id}[/] → {self.dir}")
        try:
            from caramba.engine.capabilities import resolve_device

            where = f"run {self.run.id!r} of target {self.target.name!r}"
            device = self.strategy.ctx.device(torch.device(resolve_device(train.device, where)))
            self.strategy.micro_batches(0, train.batch_size, train.gradient_accumulation_steps)  # refuses an uneven split
            model = build.build_model(self.target, self.run)
            self._init_from(model, announce=True)
            base_dir = build.data_base_dir(self.compiled, self.workspace)
            dataset = build.build_dataset(self.target, self.run, self.compiled.manifest.defaults, base_dir)
            objective = build.build_component("objective", self.target.objective)
            trainer = build.build_component("trainer", self.target.trainer)
            teacher = self._teacher(device) if self.target.trainer.ref == "trainer.upcycle" else None
            if self.main:
                write_json(self.dir / "environment.json", environment(device, []))
                if getattr(dataset, "heldout", None) is not None:  # the evaluation protocol (engine/data/heldout.py)
                    write_json(self.dir / "heldout.json", dataset.heldout.to_json())
        except (FileNotFoundError, ValueError, TokenizerUnavailable, RunInputError) as exc:
            self._finish("failed", [str(exc)])
            raise RunInputError(str(exc)) from exc
        job = TrainJob(record.id, model, objective, dataset, self.run, self.compiled.manifest.defaults, self.dir, device,
                       self.compiled.manifest.apples_to_apples, self.console, self.announce, self.progress, self.cancelled,
                       self.strategy, teacher)
        try:
            result: TrainResult = trainer.fit(job)
            record.step = result.step
            finished = result.stopped != "cancelled" and result.diverged is None
            verified: list[str] = []
            if finished:
                self.announce(f"training finished at step {result.step} ({result.stopped}); "
                              + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()))
                verified = self._verify(model, objective, dataset, device)  # every rank: its share of the batches
            bench_teacher = self._bench_teacher(device) if finished else None  # gathered on rank 0 when sharded
            model = self._whole(model, device)
            if not self.main:  # benchmarks run once, on rank 0
                return self._finish("cancelled" if result.stopped == "cancelled" else "succeeded", [])
            write_json(self.dir / "environment.json", environment(device, result.notes))
            record.artifacts = result.artifacts
            if result.stopped == "cancelled":
                return self._finish("cancelled", [f"cancelled at step {result.step}; run again to resume"])
            if result.diverged is not None:
                return self._finish("failed", [result.diverged])
            reasons = verified + self._benchmark(model, dataset, device, bench_teacher)
        except Cancelled as exc:  # SIGTERM during verification or benchmarks (polled once per batch)
            return self._finish("cancelled", [f"{exc} after training to step {record.step}; run again to finish it"])
        except KeyboardInterrupt:
            self._finish("cancelled", [f"interrupted at step {record.step}; run again to resume"])
            raise
        except Exception as exc:
            if self.strategy.ctx.distributed and is_peer_failure(exc) and not isinstance(exc, PeerFailed):
                exc = PeerFailed(f"rank {self.strategy.ctx.rank}: a collective failed — {PEER_MARK} "
                                 f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
            self._finish("failed", [f"{type(exc).__name__}: {exc}"])
            raise exc
        return self._finish("failed" if reasons else "succeeded", reasons)

    def _whole(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """The trained model unsharded on rank 0 (FSDP: gathered from every rank; a collective)."""
        if not self.strategy.sharded:
            return model
        state = self.strategy.full_state(model)
        if not self.main:
            return model
        whole = build.build_model(self.target, self.run)
        whole.load_state_dict(state)
        return whole.to(device=device, dtype=Precision(self.run.train, device).param_dtype)

    def _finish(self, status: str, reasons: list[str]) -> RunRecord:
        record = self.record
        record.status, record.finished, record.reasons = status, now(), reasons
        if not self.main:
            self._log.file.close()
            return record
        files = [p for p in (self.dir / "metrics.jsonl", self.dir / "metrics.parquet", self.dir / "environment.json") if p.is_file()]
        artifacts = sorted(p for p in (self.dir / "artifacts").rglob("*") if p.is_file()) if (self.dir / "artifacts").is_dir() else []
        record.artifacts = sorted(set(record.artifacts) | {str(p) for p in files + artifacts})
        record.save()
        colour = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}[status]
        self.announce(f"[bold {colour}]{status}[/]: {record.id}" + "".join(f"\n  ✘ {escape(r)}" for r in reasons))
        self._log.file.close()
        run_ended(record)
        return record

    def _teacher(self, device: torch.device) -> Any:
        """The run's teacher (``train.teacher_ckpt`` or ``trainer.upcycle``'s), loaded once and placed on
        ``device`` — replicated on each rank or sharded, as ``runtime.distributed.teacher`` says; None without one."""
        if not hasattr(self, "_loaded_teacher"):
            from caramba.engine.train.distributed.teacher import place_teacher, placement
            from caramba.engine.upcycle.teacher import load_teacher

            teacher = load_teacher(self.compiled, self.target, self.run, self.workspace,
                                   build.data_base_dir(self.compiled, self.workspace))
            if teacher is not None:
                teacher.model, line = place_teacher(teacher.model, self.strategy, device,
                                                    Precision(self.run.train, device).param_dtype)
                teacher.sharded = placement(self.strategy) == "sharded"
                self.announce(line)
            self._loaded_teacher = teacher
        return self._loaded_teacher

    def _init_from(self, model: torch.nn.Module, announce: bool = False) -> None:
        """Load ``init_from``'s weights into ``model`` (see ``engine/run/init_from.py``)."""
        init = self.run.init_from
        if init is None:
            return
        from caramba.engine.run.init_from import load_init, source_of

        source = source_of(init, self.compiled, self.target, self.run, self.workspace,
                           build.data_base_dir(self.compiled, self.workspace))
        report = load_init(model, init, source)
        if announce:
            write_json(self.dir / "artifacts" / "init_from.json", {"source": source.description, **report.to_json()})
            self.announce(f"init_from {source.description}: {report.summary()}")

    def _verify(self, model: torch.nn.Module, objective: Any, dataset: Any, device: torch.device) -> list[str]:
        """Run the run's verification on every rank (each scores its share of the batches, the sums are
        reduced: the numbers of one process); rank 0 writes ``verify.json``. Returns the failed gates' reasons."""
        config = self.run.verify
        if config is None:
            return []
        teacher = self._teacher(device)
        if teacher is not None:
            reference, kind = teacher.model, "teacher"
        else:
            reference, kind = build.build_model(self.target, self.run), "initialisation"
            self._init_from(reference)
        precision = Precision(self.run.train, device)
        if teacher is None:
            reference = reference.to(device=device, dtype=precision.param_dtype)
        ctx = VerifyContext(model, reference, kind, objective, dataset, self.run.train.batch_size, self.run.train.block_size,
                            device, precision.autocast, self.compiled.base_dir, self.strategy.ctx)
        verdict: Verdict = run_verify(config, ctx)
        if self.main:
            write_json(self.dir / "artifacts" / "verify.json", verdict.to_json())
        mark = "[green]passed[/]" if verdict.passed else "[red]failed[/]"
        self.announce(f"verify {config.type}: {mark} " + ", ".join(f"{g.name}={g.value:.4g}" for g in verdict.gates))
        return verdict.reasons

    def _bench_teacher(self, device: torch.device) -> torch.nn.Module | None:
        """The whole teacher for rank 0's benchmarks (a sharded one is all-gathered: a collective), or None."""
        teacher = self._teacher(device) if self.target.benchmarks else None
        if teacher is None or not teacher.sharded:
            return None if teacher is None else teacher.model
        from caramba.engine.hf import build_model
        from caramba.engine.train.distributed.teacher import whole_state

        state = whole_state(teacher.model)
        if not self.main:
            return None
        with torch.random.fork_rng(devices=[]):
            whole = build_model(teacher.config)
        whole.load_state_dict(state)
        return whole.to(device=device, dtype=Precision(self.run.train, device).param_dtype).eval()

    def _benchmark(self, model: torch.nn.Module, dataset: Any, device: torch.device,
                   teacher: torch.nn.Module | None) -> list[str]:
        """Run the target's benchmarks (``teacher``: the whole teacher, when the run has one); one reason per failure."""
        if not self.target.benchmarks:
            return []
        try:
            from caramba.engine.bench import run_benchmarks
        except ModuleNotFoundError as exc:
            if exc.name not in ("caramba.engine.bench",):
                raise
            return [f"benchmarks requested but caramba.engine.bench is unavailable ({exc})"]
        models = {"student": model}
        if teacher is not None:
            models["teacher"] = teacher
        failed = run_benchmarks(self.target, models, dataset, self.dir, self.record.id, self.compiled.digest, device)
        return [f"benchmark {name} failed (see artifacts)" for name in failed]
