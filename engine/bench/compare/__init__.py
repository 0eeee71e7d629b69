"""Comparisons of finished runs: arms of seeds, statistics, tables and figures.

``compare(arms, out, spec)`` is the entry point of ``caramba compare``, of ``caramba run``
on a manifest with a ``comparison:`` block, and of the MCP tool ``compare_runs``. It
writes into ``out``:

* the statistics (``write.py``): ``arms.csv`` (per arm and metric: n, mean, sd, 95% CI),
  ``pairs.csv`` (per pair of arms: difference, CI, Welch's t-test, verdict),
  ``comparison.json``, ``comparison.md``;
* the figures (``figures.py``): loss curves per arm (mean + seed band), final metrics
  with 95% CIs, KV-cache and model-tensor memory against context — PNG and PDF;
* the table (``tables.py``): one row per arm, mean ± sd of the headline metrics, best in
  bold, significance against the baseline marked, ratios to the baseline — CSV and
  LaTeX (booktabs);
* the side-by-side benchmark tables of every run that ran benchmarks (``side_by_side.py``).

Modules: ``stats`` (formulas), ``metrics`` (what one run measured), ``arms`` (grouping
runs into arms), ``analysis`` (summaries and tests), ``headline`` (which metrics a
reader sees first), ``write`` / ``figures`` / ``tables`` (files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caramba.engine.bench.compare.analysis import Comparison, analyse
from caramba.engine.bench.compare.arms import Arm, ComparisonInputError, arms_of_manifest, arms_of_runs
from caramba.engine.bench.compare.side_by_side import compare_runs
from caramba.engine.bench.compare.figures import write_figures
from caramba.engine.bench.compare.tables import write_tables
from caramba.engine.bench.compare.write import headline, write_comparison

__all__ = ["Arm", "Comparison", "ComparisonInputError", "analyse", "arms_of_manifest", "arms_of_runs", "compare",
           "compare_runs", "headline"]


def compare(arms: list[Arm], out: Path, spec: Any = None) -> tuple[Comparison, list[str]]:
    """Analyse ``arms`` and write every comparison artifact into ``out``; (the comparison, files written)."""
    provenance = [(r.id, r.manifest_digest) for a in arms for r in a.runs]
    comparison = analyse(arms, spec, provenance)
    files = [str(p) for p in write_comparison(comparison, out) + write_figures(comparison, out) + write_tables(comparison, out)]
    benchmarked = [d for a in arms for d in a.dirs if (d / "artifacts" / "report.json").is_file()]
    if len(benchmarked) >= 2:
        files += compare_runs(benchmarked, out, plots_too=False)
    return comparison, files
