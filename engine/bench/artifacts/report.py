"""Write every artifact of a :class:`BenchResults`: CSV, PNG, LaTeX, ``report.json``, ``report.md``.

Files (those whose data exists): ``perplexity.csv``, ``latency.csv``, ``memory.csv``;
``perplexity.tex``, ``latency.tex``, ``memory.tex``; ``latency_vs_context.png``,
``tokens_per_s_vs_context.png``, ``memory_scaling.png``, ``perplexity_comparison.png``,
``training_curves.png``; ``report.json`` (every number, the failures, the status) and
``report.md`` (the tables, the plots, the failures). A run comparison writes the same
files with a leading ``run`` column and one series per run.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from caramba.engine.bench.artifacts import plots
from caramba.engine.bench.artifacts.latex import write_latex
from caramba.engine.bench.artifacts.tables import SPECS, markdown, with_run_column, write_csv
from caramba.engine.bench.results import TYPES, BenchResults, Row
from caramba.engine.store.atomic import write_json, write_text

MIB = float(1 << 20)


def _plots(out: Path, results: BenchResults) -> list[Path]:
    """The PNGs of whatever data there is."""
    prov, run = results.provenance, (["run_id"] if results.compare else [])
    made = []
    latency = results.rows.get("latency", [])
    if latency:
        keys = [*run, "model", "cache", "batch", "gen_len"]
        made.append(plots.line_panels(out / "latency_vs_context.png", latency, "prompt_len",
                                      [("prefill_ms", "prefill (ms, median)"), ("decode_ms_per_token", "decode (ms/token, median)")],
                                      keys, "prompt length (tokens)", "Latency vs context", prov))
        made.append(plots.line_panels(out / "tokens_per_s_vs_context.png", latency, "prompt_len",
                                      [("tokens_per_s", "decode throughput (tokens/s, median)")], keys, "prompt length (tokens)",
                                      "Decode throughput vs context", prov))
    memory = [{**r, "kv_mib": r["kv_bytes"] / MIB if r.get("kv_bytes") is not None else None,
               "tensor_mib": r["tensor_bytes"] / MIB if r.get("tensor_bytes") is not None else None}
              for r in results.rows.get("memory", [])]
    if memory:
        made.append(plots.line_panels(out / "memory_scaling.png", memory, "seq_len",
                                      [("kv_mib", "KV cache (MiB, measured)"),
                                       ("tensor_mib", "model tensors: weights + KV (MiB)")],
                                      [*run, "model", "cache", "batch"], "sequence length (tokens)", "Memory scaling", prov))
    perplexity = results.rows.get("perplexity", [])
    if perplexity:
        made.append(plots.bars(out / "perplexity_comparison.png", perplexity, "ppl", [*run, "model", "benchmark"],
                               "perplexity (held-out)", "Perplexity (± sd over repeats)", prov))
    if results.metrics:
        made.append(plots.training_curves(out / "training_curves.png", results.metrics, prov,
                                          "run_id" if results.compare else None))
    return made


def _markdown(results: BenchResults, files: list[Path]) -> str:
    runs = "\n".join(f"- run `{r}`, manifest sha256 `{d}`" for r, d in results.provenance)
    lines = [f"# Benchmark report — {results.status}", "", runs, ""]
    if results.meta:
        lines += ["| | |", "|---|---|", *[f"| {k} | {v} |" for k, v in sorted(results.meta.items())], ""]
    for kind in TYPES:
        rows = results.rows.get(kind)
        if rows:
            spec = with_run_column(SPECS[kind]) if results.compare else SPECS[kind]
            lines += [f"## {spec.title}", "", markdown(spec, rows), "", f"Data: `{kind}.csv`, LaTeX: `{kind}.tex`.", ""]
    pngs = [f for f in files if f.suffix == ".png"]
    if pngs:
        lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in pngs] + [""]
    if results.failures:
        lines += ["## Failures", ""]
        lines += [f"- **{f['benchmark']}** ({f['type']}): {f['error']}" for f in results.failures] + [""]
    return "\n".join(lines)


def write_artifacts(out: Path, results: BenchResults, plots_too: bool = True) -> list[str]:
    """Write every artifact into ``out``; returns the paths written (``report.json`` last).

    ``plots_too=False`` writes the tables and reports only (a comparison draws its own
    per-arm figures instead of one series per run).
    """
    out.mkdir(parents=True, exist_ok=True)
    run_id, digest = results.provenance[0] if len(results.provenance) == 1 else ("compare", "several")
    files: list[Path] = []
    for kind in TYPES:
        rows = results.rows.get(kind)
        if rows:
            spec = with_run_column(SPECS[kind]) if results.compare else SPECS[kind]
            files.append(write_csv(out / f"{kind}.csv", rows, run_id, digest))
            files.append(write_latex(out / f"{kind}.tex", spec, _stamped(rows, run_id, digest), results.provenance,
                                     f"{run_id}-{kind}"))
    if plots_too:
        files += [f for png in _plots(out, results) for f in (png, png.with_suffix(".pdf"))]
    files.append(write_text(out / "report.md", _markdown(results, files)))
    report: dict[str, Any] = {
        "status": results.status, "provenance": [{"run_id": r, "manifest_digest": d} for r, d in results.provenance],
        "run_id": run_id, "manifest_digest": digest, "created": datetime.now(timezone.utc).isoformat(),
        "meta": results.meta, "results": results.rows, "raw": results.raw, "failures": results.failures,
        "artifacts": [p.name for p in files] + ["report.json"],
    }
    files.append(write_json(out / "report.json", _finite(report)))
    return [str(p) for p in files]


def _finite(value: Any) -> Any:
    """NaN/inf → None, so ``report.json`` is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _stamped(rows: list[Row], run_id: str, digest: str) -> list[Row]:
    return [{"run_id": run_id, "manifest_digest": digest, **r} for r in rows]
