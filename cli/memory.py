"""``caramba memory search|facts|timeline|related|add|sync|stats``: the knowledge memory from the shell.

Thin commands over :class:`caramba.memory.api.Memory` (the same API the MCP tools use,
on the same stores, so the CLI and a running MCP server share one memory). Each takes
``--format json`` for machines; errors exit 2 with what to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from caramba.cli.common import console, err_console, fail, print_json

if TYPE_CHECKING:  # pragma: no cover - typing only
    from caramba.memory.api import Memory

memory_app = typer.Typer(help="The knowledge memory: search what runs and sessions found, facts over time, sync.",
                         no_args_is_help=True)
FormatOption = Annotated[str, typer.Option("--format", help="text or json")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="only what held at this ISO time (e.g. 2026-11-28T09:00:00+00:00)")]


def register(app: typer.Typer) -> None:
    """Add the ``memory`` command group to ``app``."""
    app.add_typer(memory_app, name="memory")


@contextmanager
def _memory() -> Iterator["Memory"]:
    from caramba.codegraph.database import DatabaseError
    from caramba.engine.compiler.errors import ManifestInvalid
    from caramba.memory.api import Memory
    from caramba.memory.errors import MemoryUnavailable

    try:
        with Memory(Path.cwd()) as memory:
            yield memory
    except (MemoryUnavailable, DatabaseError) as error:
        fail(str(error))
    except ManifestInvalid as error:
        fail(f"caramba.yml is invalid: {error}", "fix the named field")
    except ValueError as error:
        fail(str(error))


def _emit(result: dict[str, Any], format_: str, text: Callable[[dict[str, Any]], None]) -> None:
    if format_ == "json":
        print_json(result)
    else:
        text(result)


@memory_app.command()
def search(query: Annotated[str, typer.Argument(help="a question or words")],
           k: Annotated[int, typer.Option("-k", min=1, max=100, help="how many results")] = 5,
           mode: Annotated[str, typer.Option("--mode", help="hybrid, bm25 or vector")] = "hybrid",
           as_of: AsOf = None,
           superseded: Annotated[bool, typer.Option("--superseded", help="include findings a newer result replaced")] = False,
           format_: FormatOption = "text") -> None:
    """Search run reports, findings, transcripts and notes (hybrid BM25 + vector, reranked)."""
    with _memory() as memory:
        result = memory.search(query, k, mode, as_of, superseded)

    def text(found: dict[str, Any]) -> None:
        if not found["hits"]:
            console.print("nothing found (is the memory empty? `caramba memory sync` records the run store)")
        for rank, hit in enumerate(found["hits"], start=1):
            interval = f"{hit['valid_at']} → {hit['invalid_at'] or 'now'}"
            source = ", ".join(f"{k}={v}" for k, v in hit["source"].items() if v not in ("", None, []))
            console.print(f"[bold]{rank}.[/] {escape('[' + hit['kind'] + ']')} {escape(hit['text'])}\n   [dim]source: {escape(source)} · {interval}[/]")

    _emit(result, format_, text)


@memory_app.command()
def facts(entity: Annotated[str, typer.Argument(help="an entity name: run id, experiment, class, metric…")],
          as_of: AsOf = None, format_: FormatOption = "text") -> None:
    """Facts about an entity with their validity intervals."""
    with _memory() as memory:
        result = memory.facts(entity, as_of)
    _emit(result, format_, lambda r: [console.print(
        f"{f['valid_at'] or '?'} → {f['invalid_at'] or 'now'}  [bold]{f['relation']}[/] {escape(f['fact'])}") for f in r["facts"]])


@memory_app.command()
def timeline(experiment: Annotated[str | None, typer.Option("--experiment", help="one experiment only")] = None,
             format_: FormatOption = "text") -> None:
    """Findings over time: which arm led each experiment on each metric, from when until when."""
    with _memory() as memory:
        result = memory.timeline(experiment)
    _emit(result, format_, lambda r: [console.print(
        f"{e['valid_at']} → {e['invalid_at'] or 'now'}  {escape('[' + e['status'] + ']')} {escape(e['fact'])}") for e in r["events"]])


@memory_app.command()
def related(component: Annotated[str, typer.Argument(help="a class or manifest type, e.g. DecoupledAttention")],
            format_: FormatOption = "text") -> None:
    """Runs that used a component (joined through the code graph's classes and registrations)."""
    with _memory() as memory:
        result = memory.related_runs(component)
    _emit(result, format_, lambda r: [console.print(
        f"{run['run_id']} ({run['experiment']}/{run['arm']}, {run['status']}) "
        + ", ".join(f"{k} {v:.4g}" for k, v in sorted(run["metrics"].items()))) for run in r["runs"]]
        or console.print(f"no recorded run used {component}"))


@memory_app.command()
def add(text: Annotated[str, typer.Argument(help="the note to remember")],
        title: Annotated[str, typer.Option("--title", help="a short title")] = "",
        extract: Annotated[bool, typer.Option("--extract", help="also extract entities and facts with the LLM (llm.model)")] = False,
        format_: FormatOption = "text") -> None:
    """Remember a note (searchable at once; --extract adds its facts to the graph through the LLM)."""
    from caramba.memory.errors import NeedsModel

    try:
        with _memory() as memory:
            result = memory.add_note(text, title, extract=extract)
    except NeedsModel as error:
        fail(str(error))
    _emit(result, format_, lambda r: console.print(f"remembered {r['id']}" + ("" if r["written"] else " (already known)")
                                                   + (f"; {r['extraction']['cost']}" if "extraction" in r else "")))


@memory_app.command()
def sync(force: Annotated[bool, typer.Option("--force", help="rewrite every run, changed or not")] = False,
         reembed: Annotated[bool, typer.Option("--reembed", help="first re-embed everything with the configured embedder")] = False,
         format_: FormatOption = "text") -> None:
    """Record every finished run of the run store that memory lacks or holds out of date (idempotent)."""
    with _memory() as memory:
        if reembed:
            done = memory.reembed()
            err_console.print(f"re-embedded {done['chunks']} chunks and {done['graph_vectors']} graph vectors "
                              f"with {done['embedder']}")
        result = memory.sync(force)
    _emit(result, format_, lambda r: console.print(
        f"scanned {r['scanned']} runs: recorded {r['runs']}, unchanged {r['skipped']}; {r['findings']} findings, "
        f"{r['chunks']} chunks written"))


@memory_app.command()
def stats(format_: FormatOption = "text") -> None:
    """What the memory holds, and where (graph, chunk dataset, embedder)."""
    with _memory() as memory:
        result = memory.stats()

    def text(r: dict[str, Any]) -> None:
        for key, value in r.items():
            console.print(f"[bold]{key}[/]: {value}")

    _emit(result, format_, text)
