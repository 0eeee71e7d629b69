"""``caramba compare``: arms of seeds side by side, with statistics, tables and figures.

``caramba compare M.yml`` compares the arms of a manifest (its ``comparison:`` block,
else every experiment target) from the run store; ``caramba compare ID ID …`` groups the
given runs into arms by target (seeds are replicates). Prints the primary metric per arm
(mean ± sd, 95% CI, n) and every pairwise Welch's t-test, and writes the artifacts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from caramba.cli.common import console, fail, manifest_source, print_json


def compare(
    items: Annotated[list[str], typer.Argument(help="a manifest (file or preset name), or two or more run ids/prefixes")],
    out: Annotated[Path | None, typer.Option("--out", help="output folder (default .caramba/compare/<name>)")] = None,
    metric: Annotated[str | None, typer.Option("--metric", help="headline metric (default: the manifest's primary)")] = None,
    format_: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Compare arms (seeds as replicates): mean, sd, 95% CI, n per arm; Welch's t-test per pair."""
    from caramba.engine.bench.compare import ComparisonInputError, compare as write

    try:
        arms, spec, folder = _arms(items, out)
        comparison, files = write(arms, folder, spec)
    except (ComparisonInputError, ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    if metric is not None and metric not in comparison.metrics:
        fail(f"no metric {metric!r} in these runs", f"choose one of: {', '.join(comparison.metrics[:12])} …")
    if format_ == "json":
        print_json({**comparison.to_json(), "out": str(folder), "files": files})
        return
    show(comparison, folder, metric)


def show(comparison: Any, folder: Path, metric: str | None = None) -> None:
    """Print the headline (primary metric per arm, pairwise tests) and where the artifacts are."""
    from caramba.engine.bench.compare import headline

    lines = headline(comparison, metric)
    console.print(f"[bold]{lines[0]}[/]", markup=True)
    for line in lines[1:]:
        style = "yellow" if "not significant" in line else None
        console.print(line, style=style, markup=False, highlight=False)
    console.print(f"artifacts → {folder}  (arms.csv, pairs.csv, comparison.json, comparison.md)")


def _arms(items: list[str], out: Path | None) -> tuple[list[Any], Any, Path]:
    """(arms, the manifest's comparison block or None, output folder) of the command's arguments."""
    from caramba.engine.bench.compare import arms_of_manifest, arms_of_runs
    from caramba.engine.store import RunStore
    from caramba.engine.store.runs import UnknownRun

    store, root = RunStore(Path.cwd()), Path.cwd() / ".caramba" / "compare"
    if len(items) == 1:
        source = manifest_source(items[0])
        if not Path(source).is_file():
            fail(f"{items[0]!r} is neither a manifest nor enough run ids",
                 "give a manifest (file or preset name), or two or more run ids from `caramba runs list`")
        from caramba.engine.compiler import ManifestInvalid, compile_manifest

        try:
            compiled = compile_manifest(source)
        except ManifestInvalid as exc:
            fail(f"{items[0]} is not a valid manifest ({len(exc.errors)} error(s))", f"run: caramba validate {items[0]}")
        return arms_of_manifest(compiled, store), compiled.manifest.comparison, out or root / compiled.manifest.name
    try:
        records = [store.get(r) for r in items]
    except UnknownRun as exc:
        fail(str(exc), "caramba runs list shows the ids")
    digest = hashlib.sha256("\n".join(r.id for r in records).encode()).hexdigest()[:12]
    return arms_of_runs(records), None, out or root / digest


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the ``caramba`` command."""
    app.command()(compare)
