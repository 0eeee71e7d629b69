"""Side-by-side benchmark artifacts of several runs (one column or series per run).

Reads each run's ``artifacts/{perplexity,latency,memory}.csv`` (already stamped with its
run id and manifest hash) and its ``metrics.jsonl``, and writes the same artifact set as
a single run — CSV, PNG, LaTeX, ``report.json``, ``report.md`` — with a leading ``run``
column in every table and one series per run in every plot.
"""

from __future__ import annotations

import json
from pathlib import Path

from caramba.engine.bench.artifacts import write_artifacts
from caramba.engine.bench.artifacts.tables import read_csv
from caramba.engine.bench.results import TYPES, BenchResults
from caramba.engine.bench.runner import training_metrics


def compare_runs(run_dirs: list[Path], out: Path, plots_too: bool = True) -> list[str]:
    """Write the side-by-side tables (and, with ``plots_too``, plots) of ``run_dirs`` into ``out``; the files written."""
    if len(run_dirs) < 2:
        raise ValueError("compare needs at least two runs, e.g. `caramba compare BASELINE_ID DBA_ID`")
    results = BenchResults(provenance=[])
    for run_dir in run_dirs:
        artifacts = run_dir / "artifacts"
        report = artifacts / "report.json"
        if not report.is_file():
            raise FileNotFoundError(f"{run_dir.name} has no benchmark report ({report}); give the run `benchmarks:` "
                                    "in its manifest and run it, or pick a run whose benchmarks finished")
        meta = json.loads(report.read_text())
        run_id, digest = meta["run_id"], meta["manifest_digest"]
        results.provenance.append((run_id, digest))
        for kind in TYPES:
            if (artifacts / f"{kind}.csv").is_file():
                rows = read_csv(artifacts / f"{kind}.csv")
                results.add(kind, rows, [])
        results.failures += [{**f, "benchmark": f"{run_id}: {f['benchmark']}"} for f in meta.get("failures", [])]
        results.metrics += [{**row, "run_id": run_id} for row in training_metrics(run_dir)]
        results.meta[run_id] = meta.get("meta", {}).get("device_name", "?")
    return write_artifacts(out, results, plots_too)
