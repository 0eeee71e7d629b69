"""``caramba validate``: the manifest checklist and every error."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from caramba.cli.common import console, manifest_source, print_json

ICONS = {"ok": "[green]✔[/]", "failed": "[red]✘[/]", "skipped": "[dim]–[/]"}


def validate(
    manifest: Annotated[str, typer.Argument(help="manifest file or preset name")],
    set_: Annotated[list[str], typer.Option("--set", help="override a field: a.b[0].c=value (YAML-typed)")] = [],
    format_: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Check a manifest (schema, limits, dimensions, runs, files, data, comparability) in this workspace; exit 2 if invalid."""
    from caramba.engine.compiler import check
    from caramba.engine.compiler.errors import STAGES

    report = check(manifest_source(manifest), set_, Path.cwd())
    if format_ == "json":
        print_json({k: v for k, v in report.to_json().items() if k in ("ok", "errors")})
    else:
        for stage in STAGES:
            status = report.stage_status(stage)
            console.print(f"{ICONS[status]} {stage}" + (" [dim](skipped: earlier errors)[/]" if status == "skipped" else ""))
        for error in report.errors:
            console.print(f"\n[bold red]✘[/] {escape(error.render())}")
        summary = "[green]valid[/]" if report.ok else f"[red]{len(report.errors)} error(s)[/]"
        console.print(f"\n{manifest}: {summary}")
    if not report.ok:
        raise typer.Exit(2)
