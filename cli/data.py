"""``caramba data prepare``: local text → a token file for ``dataset.tokens``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caramba.cli.common import console, fail, print_json

data_app = typer.Typer(help="Prepare training data (tokenise local text).", no_args_is_help=True)


@data_app.command("prepare")
def prepare(
    source: Annotated[Path, typer.Argument(help="a text file, or a folder of .txt/.md/.rst/.jsonl files")],
    out: Annotated[Path, typer.Option("--out", "-o", help="token file to write (.npy)")] = Path("data.npy"),
    tokenizer: Annotated[str, typer.Option("--tokenizer", help="byte (embedded), tiktoken (cached), or a tokenizer.json path")] = "byte",
    format_: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Tokenise local text into a .npy token file, with a progress bar."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from caramba.engine.data.prepare import prepare as prepare_fn
    from caramba.engine.data.tokenizers import TokenizerUnavailable, load_tokenizer

    try:
        tok = load_tokenizer(tokenizer, Path.cwd())
    except TokenizerUnavailable as exc:
        fail(str(exc), "caramba data prepare TEXT --out data.npy --tokenizer byte always works offline")
    columns = (TextColumn("tokenising"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=format_ == "json") as bar:
            task = bar.add_task("prepare", total=None)
            summary = prepare_fn(source, out, tok, lambda done, total: bar.update(task, completed=done, total=total))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc), "give a text file or folder, and an --out ending in .npy")
    if format_ == "json":
        print_json(summary)
        return
    console.print(f"wrote {summary['out']}: {summary['tokens']:,} tokens ({summary['dtype']}, vocabulary "
                  f"{summary['vocab_size']}, {summary['files']} file(s)); use it as data.config.path")


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the CLI."""
    app.add_typer(data_app, name="data")
