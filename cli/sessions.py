"""What the agent-process commands (``brainstorm``, ``develop``, ``paper``) share.

Each command builds its process config and :class:`~caramba.processes.ProcessOptions`,
then runs the session inside :func:`setup_errors` (a bad persona, script or manifest is an
exit 2 with what and how to fix it, never a traceback) and ends with :func:`report_result`
(the session's message, its outputs and its exit code, see
:data:`~caramba.processes.EXIT_CODES`)::

    with setup_errors("a persona or script file is invalid", "fix the reported keys"):
        result = run_brainstorm(config, options)
    report_result(result)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from caramba.cli.common import console, err_console, fail

if TYPE_CHECKING:
    from caramba.processes import ProcessResult


@contextmanager
def setup_errors(what: str, hint: str) -> Iterator[None]:
    """Turn the set-up errors raised inside into a clean exit 2.

    A ``ManifestInvalid`` (persona, script or starting manifest) prints each error with its
    file, line and field path, then ``what`` and ``hint``; an ``AgentSetupError`` (no model,
    unknown persona, missing key variable) prints its own message and hint.
    """
    from caramba.agents.errors import AgentSetupError
    from caramba.engine.compiler.errors import ManifestInvalid

    try:
        yield
    except ManifestInvalid as exc:
        for error in exc.errors:
            err_console.print(f"[bold red]✘[/] {escape(error.render())}")
        fail(what, hint)
    except AgentSetupError as exc:
        fail(exc.message, exc.hint)


def report_result(result: "ProcessResult") -> None:
    """Print how the session ended and where its outputs are; exit with the status's code."""
    if result.status == "failed":
        err_console.print(f"[bold red]error:[/] {escape(result.message)}")
    else:
        console.print(f"[{'green' if result.status == 'completed' else 'yellow'}]{escape(result.message)}[/]")
    console.print(f"outputs: {result.output_dir} ({', '.join(result.outputs)})")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def parse_price(text: str | None) -> tuple[float, float] | None:
    """``--price-per-mtok IN,OUT`` → (in, out) USD per million tokens; a bad value exits 2."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or min(values) < 0:
        fail(f"--price-per-mtok {text!r} is not IN,OUT", "e.g. --price-per-mtok 0.15,0.60 (USD per million tokens)")
    return values  # type: ignore[return-value]
