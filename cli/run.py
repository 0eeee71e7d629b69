"""``caramba run``: execute a manifest's target, or only plan it with ``--dry-run``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from caramba.cli.common import console, err_console, fail, manifest_source, print_json


def run(
    manifest: Annotated[str, typer.Argument(help="manifest file or preset name")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="target or entrypoint name (default: entrypoints.default)")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="override a field: a.b[0].c=value (YAML-typed)")] = [],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="plan only: build on the meta device, train nothing")] = False,
    format_: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    nproc: Annotated[int | None, typer.Option("--nproc", min=1, help="processes on this host (execs torchrun; one per GPU); "
                                              "with --dry-run: the ranks to plan per-rank memory for")] = None,
) -> None:
    """Run a manifest (train → verify → benchmark), or show its plan with --dry-run.

    ``--nproc N`` starts N ranks on this host through torchrun (DDP or FSDP2 as the
    manifest's ``defaults.runtime.distributed`` says); on several hosts, start
    ``torchrun … -m caramba run M.yml`` on each (README, "Several GPUs and hosts").
    """
    from caramba.engine.compiler import ManifestInvalid, compile_manifest

    try:
        compiled = compile_manifest(manifest_source(manifest), set_, Path.cwd())
    except ManifestInvalid as exc:
        for error in exc.errors:
            err_console.print(f"[bold red]✘[/] {_escape(error.render())}")
        fail(f"{manifest} is not a valid manifest ({len(exc.errors)} error(s))", f"run: caramba validate {manifest}")
    from caramba.engine.manifest.selection import TargetChoiceError, select_targets

    try:
        names = [t.name for t in select_targets(compiled.manifest, target)]
    except TargetChoiceError as exc:
        fail(f"{manifest}: {exc.message}", exc.hint)
    _configure_logging(format_)
    if dry_run:
        from caramba.engine.plan import dry_run as plan_fn
        from caramba.engine.plan.render import render

        plans = plan_fn(compiled, target, nproc)  # the same targets as `names` (select_targets)
        if format_ == "json":
            print_json({"ok": True, "manifest_digest": compiled.digest, "targets": [p.to_json() for p in plans]})
        else:
            for plan in plans:
                render(plan, console)
        refusals = [r for plan in plans for r in plan.refusals]
        if refusals:
            fail(f"the plan does not fit the devices: {refusals[0]}",
                 "use strategy fsdp (defaults.runtime.distributed), more ranks (--nproc), a smaller batch_size "
                 "with more gradient_accumulation_steps, or bfloat16", code=2)
        return
    if nproc is not None:
        _launch(compiled, manifest, target, names, set_, format_, nproc)
        return
    from caramba.engine.run import RunInputError, execute
    from caramba.memory.hook import install
    from caramba.engine.train.distributed import PeerFailed

    out = err_console if format_ == "json" else console
    arms = target is None and compiled.manifest.comparison is not None
    if arms and _rank_zero():
        console.print(f"comparison: running arms {', '.join(names)} (pick one with --target)")
    try:
        install(Path.cwd())  # every run that ends here is written to the workspace's memory
    except ManifestInvalid as exc:
        fail(str(exc), "fix caramba.yml (see `memory:` in README's workspace settings)")
    try:
        records = [r for name in names for r in execute(compiled, name, Path.cwd(), out)]
    except RunInputError as exc:
        fail(str(exc), "fix the input named above and run again (finished steps are kept)")
    except PeerFailed as exc:
        fail(str(exc), "torchrun names the rank that failed; run again to resume from the last checkpoint", code=1)
    if not _rank_zero():  # under torchrun only rank 0 reports (its records are the run store's)
        return
    if format_ == "json":
        print_json([r.to_json() for r in records])
    if format_ != "json":
        _headlines(records)
    if any(r.status != "succeeded" for r in records):
        raise typer.Exit(1)
    if arms:
        _compare(compiled, quiet=format_ == "json")


def _headlines(records: list) -> None:
    """One line per finished run: its held-out numbers (with what they were computed on) and its artifact folder."""
    from caramba.engine.bench.compare.metrics import read_run

    finished = [(record, read_run(Path(record.dir))) for record in records if record.status == "succeeded"]
    protocols = {metrics.protocol for _, metrics in finished if metrics.protocol}
    shared = len(protocols) == 1
    if shared:  # the evaluation protocol, once; each number then says which part of it it used
        console.print(f"held-out tokens: {next(iter(protocols))}", highlight=False, markup=False)
    for record, metrics in finished:
        if metrics.protocol and not shared:  # runs on different data: each says its own
            console.print(f"held-out tokens of {record.id}: {metrics.protocol}", highlight=False, markup=False)
        parts = []
        for name, value in metrics.values.items():
            if name == "val_loss" or name.endswith(".ppl"):
                label = "val_loss" if name == "val_loss" else "perplexity" + (
                    "" if name == "perplexity.ppl" else f" [{name.removesuffix('.ppl')}]")
                cover = metrics.coverage.get(name)
                parts.append(f"  {label} {value:.4g}" + (f"  ({cover})" if cover else ""))
        console.print(f"[bold]{record.id}[/]" + ("" if parts else ": no held-out metric"), highlight=False)
        for part in parts:
            console.print(part, highlight=False, markup=False)
        console.print(f"  artifacts → {Path(record.dir) / 'artifacts'}", highlight=False, markup=False)


def _compare(compiled: object, quiet: bool) -> None:
    """Write (and unless ``quiet`` print) the comparison of the arms just run."""
    from caramba.cli.compare import show
    from caramba.engine.bench.compare import arms_of_manifest, compare
    from caramba.engine.store import RunStore

    folder = Path.cwd() / ".caramba" / "compare" / compiled.manifest.name  # type: ignore[attr-defined]
    comparison, _ = compare(arms_of_manifest(compiled, RunStore(Path.cwd())), folder, compiled.manifest.comparison)  # type: ignore[attr-defined]
    if not quiet:
        show(comparison, folder)


def _launch(compiled: Any, manifest: str, target: str | None, names: list[str], set_: list[str], format_: str, nproc: int) -> None:
    """``--nproc N``: torchrun on this host; a failed rank is named here and in the run's status."""
    from caramba.engine.store.ids import run_ids
    from caramba.engine.store.runs import RunStore
    from caramba.engine.train.distributed import launched_by_torchrun
    from caramba.engine.train.distributed.launch import launch, record_failure, then

    if launched_by_torchrun():
        fail("--nproc starts torchrun, and this process already runs under torchrun", "drop --nproc here")
    args = ["run", manifest, *(["--target", target] if target else []), *(a for s in set_ for a in ("--set", s)), "--format", format_]
    failed = launch(nproc, args)
    if not failed:
        return
    command = " ".join(["caramba", *args[:2], f"--nproc {nproc}"])
    store = RunStore(Path.cwd())
    failures = record_failure([store.run_dir(i) for name in names for i in run_ids(compiled, name)], failed, command)
    if failures is None:  # the run ended on its own terms (cancelled, a failed gate): rank 0 has reported it
        raise typer.Exit(1)
    fail(f"the run stopped: {failures[0]}{then(failures)}", f"run `{command}` again to resume from the last checkpoint", code=1)


def _rank_zero() -> bool:
    """False in a torchrun rank other than 0 (torchrun's ``RANK`` is its documented contract)."""
    import os

    return os.environ.get("RANK", "0") == "0"


def _configure_logging(format_: str) -> None:
    """Start-up capability lines go to stderr (stdout stays clean for --format json); rank 0 only."""
    from rich.logging import RichHandler

    from caramba.engine.capabilities import log_once

    if not _rank_zero():
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=err_console, show_path=False, show_time=False)])
    log_once()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
