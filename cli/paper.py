"""``caramba paper``: a LaTeX paper from runs, every number traced to the run behind it.

Exactly one source: ``--from DIR`` (a development session folder), ``--manifest M.yml``
(a comparison whose runs are in the store) or ``--runs ID …``. The writer persona writes
the sections, the build checks and compiles them, the reviewer reviews, the writer
revises (``--rounds``). Exit codes: 0 when the paper was written and built, 2 for bad
input (checked before any model call: missing source or files, runs not finished,
pdflatex missing, no model…), 1 when the session failed (a build the writer could not
fix — its issues are printed with file and line, and the previous good PDF is kept — or a
provider that kept failing: run the same command again to resume). docs/agents.md has the guide.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from caramba.cli.common import console, fail
from caramba.cli.sessions import report_result, setup_errors


def paper(
    session: Annotated[Path | None, typer.Option("--from", help="a development session folder")] = None,
    runs: Annotated[list[str] | None, typer.Option("--runs", help="run ids, comma-separated (or repeat --runs)")] = None,
    manifest: Annotated[Path | None, typer.Option("--manifest", help="a comparison manifest whose runs are in the store")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="the paper folder (default papers/<source>-<hash>); an existing one resumes")] = None,
    bib: Annotated[Path | None, typer.Option("--bib", help="a BibTeX file: the only keys the paper may cite")] = None,
    template: Annotated[Path | None, typer.Option("--template", help="a LaTeX template that \\input{results} (default: processes/paper_write/build/templates/paper.tex)")] = None,
    notes: Annotated[Path | None, typer.Option("--notes", help="a text file of notes the writer reads")] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="review rounds (fewer when the overall score stops rising)")] = 1,
    model: Annotated[str | None, typer.Option("--model", help="LiteLLM model for both personas (provider/model), or script:<file.yml>")] = None,
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible server URL for --model")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="name of the environment variable holding the API key")] = None,
    budget: Annotated[float | None, typer.Option("--budget", min=0.0, help="USD: no model call is made that could exceed it")] = None,
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1, help="total tokens: no model call is made that could exceed it")] = None,
    replay: Annotated[Path | None, typer.Option("--replay", help="answer every model call from this recording.jsonl")] = None,
    mcp_url: Annotated[str | None, typer.Option("--mcp-url", help="use a running `caramba mcp --transport http`")] = None,
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="workspace folder (default: the current directory)")] = Path("."),
) -> None:
    """Write a LaTeX paper from runs: numbers only by reference, claims checked, reviewed and revised."""
    from caramba.processes import ProcessOptions
    from caramba.processes.paper_write import PaperConfig, replay_config, run_paper

    if not workspace.is_dir():
        fail(f"workspace {workspace} is not a folder", "pass --workspace <existing folder>")
    options = ProcessOptions(workspace=workspace.resolve(), output_dir=Path(), model=model, api_base=api_base,
                             api_key_env=api_key_env, budget_usd=budget, budget_tokens=budget_tokens, replay=replay,
                             mcp_url=mcp_url, console=console)
    with setup_errors("a persona or script file is invalid", "fix the reported keys (docs/agents.md describes both formats)"):
        if replay is not None:
            if session or runs or manifest or model:
                fail("--replay takes the source and the models from the recording",
                     "drop --from/--runs/--manifest/--model, or drop --replay")
            if not replay.is_file():
                fail(f"--replay {replay}: no such file", "pass the recording.jsonl of an earlier paper session")
            config, options = replay_config(options)
        else:
            ids = [r for value in runs or [] for r in re.split(r"[,\s]+", value) if r]
            config = PaperConfig.from_command(Path.cwd(), session, manifest, ids, notes, bib, template, rounds)
        options.output_dir = (out or workspace / "papers" / config.slug()).resolve()
        console.print(f"paper folder: {options.output_dir}")
        result = run_paper(config, options)
    report_result(result)



def register(app: typer.Typer) -> None:
    """Add the ``paper`` command to the CLI."""
    app.command(name="paper")(paper)
