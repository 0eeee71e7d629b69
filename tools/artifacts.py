"""Result tools: a run's results, its artifacts, and a comparison of runs.

A run directory (``.caramba/runs/<run_id>/``) holds ``metrics.jsonl``, ``status.json``,
``manifest.yml`` and ``artifacts/`` (CSV tables, PNG plots, LaTeX, ``report.json``).
These tools read those files; every name is confined to the run's directory.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import yaml
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from caramba.tools.artifact_read import IMAGES, TABLE_ROWS, refusal, serve
from caramba.tools.runs import RunIdArg
from caramba.tools.security import Workspace, walk
from caramba.tools.status import RunStatus, StatusReader



class Table(BaseModel):
    """A CSV artifact as a table: its header and first rows (read_artifact returns the whole file)."""

    name: str = Field(description="the CSV artifact")
    columns: list[str]
    rows: list[dict[str, str]] = Field(description=f"at most {TABLE_ROWS} rows; read_artifact has the whole file")
    total_rows: int


class RunResults(BaseModel):
    """A run's results in one answer: status, summarised metrics, verification gates, benchmark tables and report."""

    status: RunStatus
    metrics: dict[str, Any] = Field(description="last train row, last eval row, best value of every loss, row counts")
    verification: Any = Field(description="the verification gates (report.json `verify`), or null when none ran")
    benchmarks: list[Table] = Field(description="benchmark tables from the CSV artifacts")
    report: Any = Field(description="artifacts/report.json when present")


class ArtifactInfo(BaseModel):
    """One artifact of a run: its size and type, and for a CSV table its header and first rows."""

    run_id: str
    name: str
    media_type: str
    size: int = Field(description="bytes on disk")
    truncated: bool = Field(description="true when the text was cut at the limit")
    columns: list[str] | None = Field(default=None, description="a CSV table's header")
    rows: list[list[str]] | None = Field(default=None, description=f"a CSV table's first {TABLE_ROWS} rows")
    total_rows: int | None = Field(default=None, description="a CSV table's row count")


class Comparison(BaseModel):
    """Several runs side by side: their results, the manifest fields that differ, and per-arm statistics."""

    runs: list[RunResults]
    differences: dict[str, list[Any]] = Field(description="manifest fields that differ: dotted path → value per run (in order)")
    statistics: dict[str, Any] = Field(description="runs grouped into arms (target; seeds are replicates): per arm and metric "
                                                   "n, mean, sd, 95% CI; per pair of arms B − A with its 95% CI and Welch's "
                                                   "t-test (p, verdict 'significant at 95%' or 'not significant at 95%'); "
                                                   "{note} saying why when the runs form fewer than two arms")


def register(server: MCPServer, ws: Workspace, reader: StatusReader) -> None:
    """Add the result tools and the artifact resource to ``server``."""

    def run_dir(run_id: str) -> Path:
        found = reader.status(run_id).id  # not a name / unknown → ToolError (with did-you-mean); a prefix → its id
        return ws.path(f".caramba/runs/{found}", "run directory")

    def results(run_id: str) -> RunResults:
        folder = run_dir(run_id)
        report = _json(folder / "artifacts" / "report.json")
        verification = report.get("verify") if isinstance(report, dict) else None
        tables = [_table(p, folder) for p in sorted((folder / "artifacts").glob("**/*.csv"))]
        return RunResults(status=reader.status(run_id), metrics=_metrics(folder / "metrics.jsonl"),
                          verification=verification, benchmarks=tables, report=report)

    @server.tool()
    def get_run_results(run_id: RunIdArg) -> RunResults:
        """A run's results in one answer: its status, a metrics summary (final and best
        losses), the verification gates, and the benchmark tables. Use it when run_status says
        succeeded (partial results are returned for a running or failed run)."""
        return results(run_id)

    @server.tool()
    def read_artifact(run_id: RunIdArg, name: Annotated[str, Field(
            description="artifact name from run_status/get_run_results (e.g. perplexity.csv, loss.png), relative to the "
                        "run's artifacts folder; metrics.jsonl, status.json, manifest.yml and log.txt are also readable")],
                      ) -> Annotated[CallToolResult, ArtifactInfo]:
        """Read one file of a run: CSV tables come back as text plus columns and rows, JSON,
        TeX and other text as text, PNG/JPEG plots as image content. Checkpoints and other
        binary files are refused. Use it to quote a table in a paper or to look at a plot."""
        path = _artifact_path(run_dir(run_id), name)
        content, fields = serve(path, name)
        info = ArtifactInfo(run_id=run_id, name=name, **fields)
        return CallToolResult(content=content, structured_content=info.model_dump(mode="json", exclude_none=True))

    @server.tool()
    def compare_runs(run_ids: Annotated[list[str], Field(min_length=2, description="two or more run ids")]) -> Comparison:
        """Compare runs as arms of seeds: each run's results, every manifest field whose value
        differs between them, and statistics — runs of the same target are seeds of one arm;
        per arm and metric mean, sd, 95% CI and n; per pair of arms the difference with its
        95% CI and Welch's t-test, flagged 'not significant at 95%' when p ≥ 0.05."""
        from caramba.engine.bench.compare import ComparisonInputError, analyse, arms_of_runs
        from caramba.engine.store import RunStore

        runs = [results(r) for r in run_ids]
        flat = [_flatten(_yaml(run_dir(r) / "manifest.yml")) for r in run_ids]
        keys = sorted(set().union(*flat))
        differences = {k: [f.get(k) for f in flat] for k in keys if len({json.dumps(f.get(k), default=str) for f in flat}) > 1}
        store = RunStore(ws.root)
        try:
            statistics = analyse(arms_of_runs([store.get(r) for r in run_ids])).to_json()
        except (ComparisonInputError, ValueError) as exc:  # one arm, or unfinished runs: no statistics, say why
            statistics = {"note": f"no statistics: {exc}"}
        return Comparison(runs=runs, differences=differences, statistics=_finite(statistics))

    @server.resource("caramba://runs/{run_id}/artifacts/{name}", description="a run's artifact (text or PNG bytes)")
    def artifact_resource(run_id: str, name: str) -> str | bytes:
        path = _artifact_path(run_dir(run_id), name)
        why = refusal(path, name)
        if why is not None:
            raise ResourceError(why)
        return path.read_bytes() if path.suffix.lower() in IMAGES else path.read_text(errors="replace")


def _artifact_path(folder: Path, name: str) -> Path:
    for base in (folder / "artifacts", folder):
        candidate = (base / name).resolve()
        if not candidate.is_relative_to(folder.resolve()):
            raise ToolError(f"refused: artifact name {name!r} leaves the run directory; give a name from the run's artifacts")
        if candidate.is_file():
            return candidate
    listed = sorted(str(p.relative_to(folder / "artifacts")) for p in (folder / "artifacts").glob("**/*") if p.is_file())
    raise ToolError(f"no artifact {name!r} in run {folder.name}; artifacts: {', '.join(listed) or '(none yet)'}")


def _metrics(path: Path) -> dict[str, Any]:
    from caramba.engine.train.metrics.log import MetricsLog

    rows = MetricsLog(path).rows()
    train = [r for r in rows if r.get("kind", "train") == "train"]
    evals = [r for r in rows if r.get("kind") == "eval"]
    best = {k: min(r[k] for r in rows if isinstance(r.get(k), (int, float)))
            for k in {k for r in rows for k in r if "loss" in k and isinstance(r[k], (int, float))}}
    return {"train_rows": len(train), "eval_rows": len(evals), "last_train": train[-1] if train else None,
            "last_eval": evals[-1] if evals else None, "best": best}


def _table(path: Path, folder: Path) -> Table:
    rows = list(csv.DictReader(io.StringIO(path.read_text(errors="replace"))))
    columns = list(rows[0]) if rows else []
    return Table(name=str(path.relative_to(folder / "artifacts")), columns=columns, rows=rows[:TABLE_ROWS], total_rows=len(rows))


def _finite(value: Any) -> Any:
    """NaN/inf → None (strict JSON for MCP clients)."""
    from caramba.engine.bench.compare.write import finite

    return finite(value)


def _json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def _flatten(data: Any) -> dict[str, Any]:
    from caramba.engine.compiler.errors import format_path

    return {format_path(p): v for p, v in walk(data)}
