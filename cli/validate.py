"""``caramba validate``: the manifest checklist and every error (Typer's side of the command;
the work and the printing are in ``cli/checklist.py``, shared with the fast path)."""

from __future__ import annotations

from typing import Annotated

import typer

from caramba.cli.checklist import check_and_print


def validate(
    manifest: Annotated[str, typer.Argument(help="manifest file or preset name")],
    set_: Annotated[list[str], typer.Option("--set", help="override a field: a.b[0].c=value (YAML-typed)")] = [],
    format_: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Check a manifest (schema, limits, dimensions, runs, files, data, comparability) in this workspace; exit 2 if invalid."""
    code = check_and_print(manifest, set_, format_)
    if code:
        raise typer.Exit(code)
