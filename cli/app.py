"""The ``caramba`` command: one Typer app, each command in its own module.

Commands import their heavy dependencies (torch, agents, databases) inside their bodies;
this module imports only Typer and the small command modules.
"""

from __future__ import annotations

import typer

from caramba.cli import brainstorm, codegraph, compare, data, generate, hf, mcp, memory, presets, run, runs, validate

app = typer.Typer(
    name="caramba",
    help="caramba: validated YAML experiments on a real PyTorch engine, MCP tools and research personas.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)
app.command()(validate.validate)
app.command()(run.run)
app.command()(presets.presets)
app.command()(presets.init)
app.command()(presets.schema)

# Commands contributed by other components: each module exposes register(app) and keeps
# its heavy imports inside its command bodies.
for _module in (codegraph, data, runs, generate, compare, mcp, brainstorm, hf, memory):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
