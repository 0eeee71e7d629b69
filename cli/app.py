"""The ``caramba`` command: one Typer app, each command in its own module.

Commands import their heavy dependencies (torch, agents, databases) inside their bodies;
the app itself is built on first use (``app``, a lazy module attribute), so that
``caramba validate`` — the command run most — can skip Typer and Rich entirely: ``main``
hands its arguments to ``cli/checklist.py`` (the same checks and output as the Typer
command) and builds the Typer app only for everything else, including ``--help``.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any


@cache
def build() -> Any:
    """The Typer app with every command registered."""
    import typer

    from caramba.cli import brainstorm, codegraph, compare, data, develop, generate, hf, mcp, memory, paper, presets, run, runs, validate

    app = typer.Typer(
        name="caramba",
        help="caramba: validated YAML experiments on a real PyTorch engine, MCP tools and research personas.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode="rich",
    )

    def show_version(value: bool) -> None:
        if value:
            typer.echo(version_text())
            raise typer.Exit()

    @app.callback()
    def root(version: bool = typer.Option(False, "--version", callback=show_version, is_eager=True,
                                          help="print the version and exit")) -> None:
        """caramba: validated YAML experiments on a real PyTorch engine, MCP tools and research personas."""

    app.command()(validate.validate)
    app.command()(run.run)
    app.command()(presets.presets)
    app.command()(presets.init)
    app.command()(presets.schema)
    # Commands contributed by other components: each module exposes register(app) and keeps
    # its heavy imports inside its command bodies.
    for module in (codegraph, data, runs, generate, compare, mcp, brainstorm, develop, paper, hf, memory):
        module.register(app)
    return app


def version_text() -> str:
    """``caramba X (engine N)``: the package version and the engine version that is part of every run id."""
    from caramba import ENGINE_VERSION, __version__

    return f"caramba {__version__} (engine {ENGINE_VERSION})"


def __getattr__(name: str) -> Any:
    """``app``: the Typer app, built on first access (module ``__getattr__``, PEP 562)."""
    if name == "app":
        return build()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point (``validate`` takes the fast path, see the module docstring)."""
    if sys.argv[1:] == ["--version"]:  # no Typer needed
        print(version_text())
        return
    if sys.argv[1:2] == ["validate"]:
        import os

        # pydantic's own switch (not caramba configuration): validation uses no pydantic plugins,
        # and looking for them scans the entry points of every installed package (~30 ms)
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        from caramba.cli.checklist import fast_main

        code = fast_main(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    build()()


if __name__ == "__main__":
    main()
