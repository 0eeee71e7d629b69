"""``caramba validate``'s work without the CLI framework: check, print the checklist, exit code.

Validation is the command users and agents run most, so it has a fast path: ``caramba
validate …`` is parsed here with ``argparse`` and printed without Rich or Typer (see
``cli/app.py``'s ``main``), importing only the compiler. The Typer command
(``cli/validate.py``) calls the same :func:`check_and_print`, so both paths print the
same text and JSON; ``--help`` and anything this parser does not know go to Typer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLOURS = {"ok": "\033[32m✔\033[0m", "failed": "\033[31m✘\033[0m", "skipped": "\033[2m–\033[0m"}
PLAIN = {"ok": "✔", "failed": "✘", "skipped": "–"}


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


def check_and_print(manifest: str, sets: list[str], format_: str) -> int:
    """Validate ``manifest`` in the current workspace, print the result, return the exit code (0 or 2)."""
    from caramba.engine.compiler import check
    from caramba.engine.compiler.errors import STAGES

    report = check(manifest_source(manifest), sets, Path.cwd())
    out = sys.stdout
    if format_ == "json":
        out.write(json.dumps({k: v for k, v in report.to_json().items() if k in ("ok", "errors")}, indent=2, default=str) + "\n")
        return 0 if report.ok else 2
    icons = COLOURS if out.isatty() else PLAIN
    for stage in STAGES:
        status = report.stage_status(stage)
        out.write(f"{icons[status]} {stage}" + (" (skipped: earlier errors)" if status == "skipped" else "") + "\n")
    for error in report.errors:
        out.write(f"\n{icons['failed']} {error.render()}\n")
    out.write(f"\n{manifest}: {'valid' if report.ok else f'{len(report.errors)} error(s)'}\n")
    return 0 if report.ok else 2


def fast_main(argv: list[str]) -> int | None:
    """``caramba validate`` arguments → exit code; None when Typer should handle them (``--help``,
    an option or a form this small parser does not know) so that its help and messages stay
    the only ones. (A hand parser: argparse alone would cost a tenth of the start-up.)"""
    manifest: str | None = None
    sets: list[str] = []
    format_ = "text"
    args = iter(argv)
    for arg in args:
        if arg in ("--set", "--format"):
            value = next(args, None)
            if value is None:
                return None
            if arg == "--set":
                sets.append(value)
            elif value in ("text", "json"):
                format_ = value
            else:
                return None
        elif arg.startswith(("--set=", "--format=")):
            name, _, value = arg.partition("=")
            if name == "--set":
                sets.append(value)
            elif value in ("text", "json"):
                format_ = value
            else:
                return None
        elif arg.startswith("-") or manifest is not None:
            return None
        else:
            manifest = arg
    if manifest is None:
        return None
    return check_and_print(manifest, sets, format_)
