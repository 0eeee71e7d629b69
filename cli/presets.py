"""``caramba presets``, ``caramba init`` and ``caramba schema``: starting points and the schema."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from caramba.cli.common import console, fail, print_json


def preset_summary(path: Path) -> str:
    """The first comment line of a preset (its one-line description)."""
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def presets(format_: Annotated[str, typer.Option("--format", help="text or json")] = "text") -> None:
    """List presets with a one-line description each."""
    from caramba.engine.compiler.extends import PRESETS_DIR, preset_names

    rows = [(name, preset_summary(PRESETS_DIR / f"{name}.yml")) for name in preset_names()]
    if format_ == "json":
        print_json([{"name": n, "description": d} for n, d in rows])
        return
    for name, description in rows:
        console.print(f"[bold cyan]{name:28}[/] {description}")


def init(
    template: Annotated[str, typer.Option("--template", "-t", help="preset to copy")] = "standard_transformer",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="file to write (default: <template>.yml)")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a copy of a preset to start an experiment from."""
    from caramba.engine.compiler.extends import preset_names, preset_path
    from caramba.engine.store.atomic import write_text

    source = preset_path(template)
    if source is None:
        fail(f"unknown preset {template!r}", f"choose one of: {', '.join(preset_names())}")
    target = out or Path(f"{template}.yml")
    if target.exists() and not force:
        fail(f"{target} already exists", "choose another --out, or pass --force")
    write_text(target, source.read_text())
    console.print(f"wrote {target} (from preset {template}); check it with: caramba validate {target}")


def schema(
    component: Annotated[str | None, typer.Option("--component", help="one registry kind, e.g. layer")] = None,
    format_: Annotated[str, typer.Option("--format", help="json (the JSON Schema) or markdown (docs/manifest.md)")] = "json",
) -> None:
    """Print the manifest JSON Schema (for editors' YAML language servers and MCP clients), or the Markdown reference."""
    from caramba.engine.schema_export import component_schema, manifest_schema

    if format_ == "markdown":
        from caramba.engine.schema_docs import manifest_markdown

        sys.stdout.write(manifest_markdown())
        return
    if format_ != "json":
        fail(f"unknown --format {format_!r}", "use json or markdown")
    if component is None:
        print_json(manifest_schema())
        return
    try:
        print_json(component_schema(component))
    except KeyError as exc:
        fail(str(exc.args[0]), "kinds: layer, topology, embedder, model, task, dataset, system, objective, trainer")
