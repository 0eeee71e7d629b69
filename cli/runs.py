"""``caramba runs list|show|cancel``: the run store of the workspace (current directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from caramba.cli.common import console, fail, print_json
from caramba.cli.table import Column, fitted

runs_app = typer.Typer(help="Runs in this workspace (.caramba/runs): list, show, cancel.", no_args_is_help=True)
COLOURS = {"queued": "dim", "running": "cyan", "succeeded": "green", "failed": "red", "cancelled": "yellow"}
LIST_FIELDS = ("id", "target", "status", "started", "finished", "dir")
# on a narrow terminal the run folder goes first (it is .caramba/runs/<id>), then the times, the step, the target
LIST_COLUMNS = (Column("id", no_wrap=True), Column("target", 8, drop=5), Column("status", no_wrap=True),
                Column("step", no_wrap=True, drop=4), Column("started", 19, drop=3), Column("finished", 19, drop=2),
                Column("dir", 12, drop=1))


@runs_app.command("list")
def list_runs(format_: Annotated[str, typer.Option("--format", help="text or json")] = "text") -> None:
    """Every run: id, target, status, started, finished, directory."""
    from caramba.engine.store import RunStore

    records = RunStore(Path.cwd()).list()
    if format_ == "json":
        print_json([{k: r.to_json()[k] for k in LIST_FIELDS} for r in records])
        return
    if not records:
        console.print("no runs in this workspace yet (start one with `caramba run MANIFEST`)")
        return
    rows = [(r.id, r.target, f"[{COLOURS[r.status]}]{r.status}[/]", f"{r.step}/{r.steps}", r.started or "",
             r.finished or "", r.dir) for r in records]
    console.print(fitted(LIST_COLUMNS, rows, console.width))


def details(record: Any) -> dict[str, Any]:
    """Everything about one run: its record, environment, verification, last metrics and files."""
    run_dir = Path(record.dir)
    data = record.to_json()

    def read(name: str) -> Any:
        path = run_dir / name
        return json.loads(path.read_text()) if path.is_file() else None

    data["environment"] = read("environment.json")
    data["verify"] = read("artifacts/verify.json")
    metrics = run_dir / "metrics.jsonl"
    last: dict[str, Any] = {}
    if metrics.is_file():
        for line in metrics.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break
            last.update({k: v for k, v in row.items() if v is not None})
    data["last_metrics"] = last
    data["files"] = sorted(str(p) for p in run_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    return data


@runs_app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="run id (a unique prefix is enough)")],
    format_: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Everything about one run, including its artifact paths."""
    from caramba.engine.store import RunStore, UnknownRun

    try:
        record = RunStore(Path.cwd()).get(run_id)
    except UnknownRun as exc:
        fail(str(exc), "caramba runs list shows the ids")
    data = details(record)
    if format_ == "json":
        print_json(data)
        return
    colour = COLOURS[record.status]
    console.print(f"[bold]{record.id}[/]  [{colour}]{record.status}[/]  step {record.step}/{record.steps}")
    for key in ("target", "run", "manifest_name", "manifest_digest", "started", "finished", "pid", "dir"):
        console.print(f"  {key:16} {data[key]}")
    for reason in record.reasons:
        console.print(f"  [red]✘[/] {reason}")
    if data["last_metrics"]:
        shown = {k: v for k, v in data["last_metrics"].items() if k in ("loss", "val_loss", "tokens_per_s", "mfu", "memory_mb")}
        console.print("  last metrics     " + ", ".join(f"{k} {v:.4g}" for k, v in shown.items() if isinstance(v, (int, float))))
    console.print("  artifacts")
    for path in record.artifacts:
        console.print(f"    {path}")


@runs_app.command("cancel")
def cancel(run_id: Annotated[str, typer.Argument(help="run id (a unique prefix is enough)")]) -> None:
    """Ask a running run to stop (it checkpoints and ends cancelled)."""
    from caramba.engine.store import RunStore, UnknownRun
    from caramba.engine.store.process import ForeignProcess

    try:
        record = RunStore(Path.cwd()).cancel(run_id)
    except UnknownRun as exc:
        fail(str(exc), "caramba runs list shows the ids")
    except ForeignProcess as exc:
        fail(f"refused to signal: {exc}", "the run is reported failed once its own process is gone; run it again to resume")
    console.print(f"{record.id}: {record.status}" + (" (SIGTERM sent)" if record.status == "running" else ""))


def register(app: typer.Typer) -> None:
    """Add the ``runs`` command group to the CLI."""
    app.add_typer(runs_app, name="runs")
