"""Shared helpers of the CLI commands: the console, user-facing failures, manifest lookup."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, hint: str = "", code: int = 2) -> NoReturn:
    """Print an actionable error (what, and how to fix it) and exit without a traceback."""
    err_console.print(f"[bold red]error:[/] {message}")
    if hint:
        err_console.print(f"  [yellow]hint:[/] {hint}")
    raise typer.Exit(code)


def manifest_source(spec: str) -> str:
    """A manifest argument is a file path or a preset name (``caramba presets``)."""
    path = Path(spec)
    if path.is_file():
        return str(path)
    from caramba.engine.compiler.extends import preset_path

    found = preset_path(spec)
    if found is not None and not path.suffix:
        return str(found)
    return str(path)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (machine-readable output)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
