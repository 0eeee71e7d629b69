"""Shared helpers of the CLI commands: the console, user-facing failures, manifest lookup."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from caramba.cli.checklist import manifest_source  # noqa: F401  (re-exported: one lookup for every command)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, hint: str = "", code: int = 2) -> NoReturn:
    """Print an actionable error (what, and how to fix it) and exit without a traceback.

    ``message`` and ``hint`` are plain text, printed as they are: an error quoting a library's
    message (gloo's ``[/…/pair.cc:561]``) must not be read as console markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        err_console.print(f"  [yellow]hint:[/] {escape(hint)}")
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (machine-readable output)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
