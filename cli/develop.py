"""``caramba develop``: the experiment loop that proposes, pilots, runs, analyses and iterates.

Exit codes: 0 when the session completed (its stop reason in the summary) or stopped
cleanly at its LLM budget, 2 for bad input (a missing --from file, an unknown metric for
the manifest, a direction typo, a compute budget below one pilot, no model…: checked
before any model call or run), 1 when it failed (the starting manifest did not run, or a
provider kept failing: run the same command again to resume). docs/agents.md has the guide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caramba.cli.common import console, fail
from caramba.cli.sessions import parse_price, report_result, setup_errors


def develop(
    goal: Annotated[str | None, typer.Option("--goal", help="the question the loop answers (taken from the recording with --replay)")] = None,
    start: Annotated[str | None, typer.Option("--from", help="starting manifest: a .yml file (relative to the workspace) or a preset")] = None,
    metric: Annotated[str, typer.Option("--metric", help="goal metric: val_loss, train_loss or <benchmark id>.<metric>")] = "val_loss",
    direction: Annotated[str, typer.Option("--direction", help="min (lower is better) or max")] = "min",
    target: Annotated[float | None, typer.Option("--target", help="stop once the best variant's 95% CI is beyond this value")] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="full runs (seeds) per variant")] = 3,
    budget: Annotated[float | None, typer.Option("--budget", min=0.0, help="LLM budget in USD")] = None,
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1, help="LLM budget in tokens")] = None,
    compute_steps: Annotated[int | None, typer.Option("--compute-steps", help="compute budget: total training steps (pilots and seeds counted)")] = None,
    compute_gpu_hours: Annotated[float | None, typer.Option("--compute-gpu-hours", help="compute budget: GPU-hours from the dry run's FLOPs")] = None,
    wall: Annotated[float | None, typer.Option("--wall-s", help="wall-time budget in seconds")] = None,
    iterations: Annotated[int, typer.Option("--iterations", help="most iterations (expansions of the tree)")] = 3,
    patience: Annotated[int, typer.Option("--patience", help="stop after this many iterations without a significant improvement")] = 2,
    pilot_fraction: Annotated[float, typer.Option("--pilot-fraction", help="a pilot trains this fraction of a run's steps")] = 0.1,
    personas: Annotated[str | None, typer.Option("--personas", help="proposers, comma-separated (default: architect,ml_expert)")] = None,
    analyst: Annotated[str | None, typer.Option("--analyst", help="the persona that analyses results (default: reviewer)")] = None,
    approve: Annotated[bool, typer.Option("--approve", help="ask before each variant's full runs")] = False,
    approve_via: Annotated[str, typer.Option("--approve-via", help="terminal (a prompt) or file (answered by the MCP develop_approve tool)")] = "terminal",
    model: Annotated[str | None, typer.Option("--model", help="LiteLLM model for every persona (provider/model), or script:<file.yml>")] = None,
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible server URL for --model")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="name of the environment variable holding the API key (never the key)")] = None,
    price_per_mtok: Annotated[str | None, typer.Option("--price-per-mtok", help="IN,OUT: USD per million tokens, for a model LiteLLM cannot price")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="session folder (default developments/<goal>-<hash>); an existing one resumes")] = None,
    resume: Annotated[Path | None, typer.Option("--resume", help="resume the session in this folder (its settings are read from it)")] = None,
    replay: Annotated[Path | None, typer.Option("--replay", help="replay a recorded session folder: no model, runs found in the run store")] = None,
    mcp_url: Annotated[str | None, typer.Option("--mcp-url", help="use a running `caramba mcp --transport http` (default: start one over stdio)")] = None,
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="workspace folder (default: the current directory)")] = Path("."),
) -> None:
    """Develop a manifest: personas propose variants, each validated, piloted, run with seeds and analysed."""
    from caramba.processes import ProcessOptions
    from caramba.processes.development import DevelopmentConfig, load_start, replay_config, run_development

    if not workspace.is_dir():
        fail(f"workspace {workspace} is not a folder", "pass --workspace <existing folder>")
    workspace = workspace.resolve()
    options = ProcessOptions(workspace=workspace, output_dir=Path(), model=model, api_base=api_base,
                             api_key_env=api_key_env, price_per_mtok=parse_price(price_per_mtok), budget_usd=budget,
                             budget_tokens=budget_tokens, mcp_url=mcp_url, console=console)
    with setup_errors("the starting manifest (or a persona or script file) is invalid", "fix the reported fields and run again"):
        if replay is not None or resume is not None:
            if goal is not None or start is not None or model is not None and replay is not None:
                fail("--replay/--resume take the goal, start and settings from the session folder",
                     "drop --goal/--from (and --model with --replay)")
            folder = (replay or resume).resolve()  # type: ignore[union-attr]
            if not (folder / "recording.jsonl").is_file():
                fail(f"{folder} holds no recorded session (no recording.jsonl)", "pass the folder of a development session")
            if replay is not None:
                options.replay = folder / "recording.jsonl"
                config, options = replay_config(options)
                options.output_dir = (out or folder.parent / f"{folder.name}-replay").resolve()
            else:
                import json

                config = DevelopmentConfig.from_json(json.loads((folder / "state.json").read_text())["config"])
                options.output_dir = folder
        else:
            if goal is None or start is None:
                fail("--goal and --from are required", 'e.g. caramba develop --goal "lower val_loss" --from tiny.yml --compute-steps 2000')
            if direction not in ("min", "max"):
                fail(f"--direction {direction!r} is not min or max", "pass --direction min (lower is better) or --direction max")
            names = [p.strip() for p in personas.split(",") if p.strip()] if personas else None
            config = DevelopmentConfig(
                question=goal, start=start, start_text=load_start(start, workspace), metric=metric, direction=direction,  # type: ignore[arg-type]
                target=target, seeds=seeds, team=DevelopmentConfig.team_of(names, analyst), iterations=iterations,
                patience=patience, compute_steps=compute_steps, compute_gpu_hours=compute_gpu_hours, wall_s=wall,
                pilot_fraction=pilot_fraction, approve=approve_via if approve else None)
            options.output_dir = (out or workspace / "developments" / config.slug()).resolve()
        console.print(f"session folder: {options.output_dir}")
        result = run_development(config, options)
    report_result(result)


def register(app: typer.Typer) -> None:
    """Add the ``develop`` command to the CLI."""
    app.command(name="develop")(develop)
