"""``caramba brainstorm``: a moderated persona discussion that ends in validated manifests.

Exit codes: 0 when the session completed or stopped cleanly at its budget (the summary
says which), 3 when it ran to its end without a valid proposal, 2 for a configuration
problem (no model, missing API key, unknown persona, bad script, a persona's tool the
server lacks, a budget that cannot be kept), 1 when it failed (a provider kept failing:
run the same command again to resume). docs/agents.md has the guide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caramba.cli.common import console, fail
from caramba.cli.sessions import parse_price, report_result, setup_errors


def brainstorm(
    topic: Annotated[str | None, typer.Option("--topic", help="the research question (taken from the recording with --replay)")] = None,
    personas: Annotated[str | None, typer.Option("--personas", help="participants, comma-separated (default: architect,ml_expert,contrarian,developer)")] = None,
    moderator: Annotated[str, typer.Option("--moderator", help="the moderator's persona")] = "research_lead",
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="discussion rounds")] = 2,
    model: Annotated[str | None, typer.Option("--model", help="LiteLLM model for every persona (provider/model), or script:<file.yml>")] = None,
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible server URL for --model")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="name of the environment variable holding the API key (never the key)")] = None,
    budget: Annotated[float | None, typer.Option("--budget", min=0.0, help="USD: no model call is made that could exceed it")] = None,
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1, help="total tokens: no model call is made that could exceed it")] = None,
    price_per_mtok: Annotated[str | None, typer.Option("--price-per-mtok", help="IN,OUT: USD per million input,output tokens, for a model LiteLLM cannot price")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="session folder (default brainstorms/<topic>-<hash>); an existing one resumes")] = None,
    replay: Annotated[Path | None, typer.Option("--replay", help="answer every model call from this recording.jsonl")] = None,
    mcp_url: Annotated[str | None, typer.Option("--mcp-url", help="use a running `caramba mcp --transport http` (default: start one over stdio)")] = None,
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="workspace folder (default: the current directory)")] = Path("."),
) -> None:
    """Run a moderated brainstorm among personas; proposals become validated, dry-run manifests."""
    from caramba.processes import ProcessOptions
    from caramba.processes.brainstorm import BrainstormConfig, replay_config, run_brainstorm

    if not workspace.is_dir():
        fail(f"workspace {workspace} is not a folder", "pass --workspace <existing folder>")
    options = ProcessOptions(workspace=workspace.resolve(), output_dir=Path(), model=model, api_base=api_base,
                             api_key_env=api_key_env, price_per_mtok=parse_price(price_per_mtok), budget_usd=budget,
                             budget_tokens=budget_tokens, replay=replay, mcp_url=mcp_url, console=console)
    with setup_errors("a persona or script file is invalid", "fix the reported keys (docs/agents.md describes both formats)"):
        if replay is not None:
            if topic is not None or personas is not None or model is not None:
                fail("--replay takes the topic, team and models from the recording",
                     "drop --topic/--personas/--model, or drop --replay")
            config, options = replay_config(options)
        elif topic is None:
            fail("--topic is required", 'e.g. caramba brainstorm --topic "Is decoupled attention worth its cost?"')
        else:
            names = [p.strip() for p in personas.split(",") if p.strip()] if personas else None
            config = BrainstormConfig.from_command(topic, names, moderator, rounds)
        options.output_dir = (output or workspace / "brainstorms" / config.slug()).resolve()
        console.print(f"session folder: {options.output_dir}")
        result = run_brainstorm(config, options)
    report_result(result)




def register(app: typer.Typer) -> None:
    """Add the ``brainstorm`` command to the CLI."""
    app.command(name="brainstorm")(brainstorm)
