"""Write a :class:`Comparison`: ``arms.csv``, ``pairs.csv``, ``comparison.json``, ``comparison.md``.

``arms.csv`` has one row per (arm, metric): n, mean, sd, the 95% CI, the seeds' run ids
and the metric's coverage. ``pairs.csv`` one row per (metric, A, B): B − A, its 95% CI,
B/A, Welch's t, df, p and the verdict (``significant at 95%`` / ``not significant at
95%`` / ``exact (no seed variance)`` / ``untested (n < 2)``). :func:`headline` is the few
lines a person reads first (console and ``comparison.md``).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from caramba.engine.bench.compare.analysis import Comparison
from caramba.engine.bench.compare.metrics import unit_of
from caramba.engine.store.atomic import write_json, write_text

ARM_COLUMNS = ["arm", "metric", "unit", "n", "mean", "sd", "ci_low", "ci_high", "coverage", "runs"]
PAIR_COLUMNS = ["metric", "a", "b", "diff_b_minus_a", "ci_low", "ci_high", "ratio_b_over_a", "test", "t", "df", "p",
                "verdict"]


def num(value: float | None, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (``—`` for None/NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}g}"


def _csv(columns: list[str], rows: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def arm_rows(c: Comparison) -> list[dict[str, object]]:
    """The rows of ``arms.csv``."""
    return [{"arm": a.name, "metric": m, "unit": unit_of(m), **a.summaries[m].to_json(), "coverage": a.coverage(m) or "",
             "runs": " ".join(a.run_ids)} for a in c.arms for m in c.metrics if m in a.summaries]


def pair_rows(c: Comparison) -> list[dict[str, object]]:
    """The rows of ``pairs.csv``."""
    return [{"metric": p.metric, "a": p.a, "b": p.b, "diff_b_minus_a": p.difference.diff, "ci_low": p.difference.ci_low,
             "ci_high": p.difference.ci_high, "ratio_b_over_a": p.difference.ratio, "test": p.difference.test,
             "t": p.difference.t, "df": p.difference.df, "p": p.difference.p, "verdict": p.difference.verdict}
            for p in c.pairs]


def headline(c: Comparison, metric: str | None = None) -> list[str]:
    """Plain-text lines: the primary metric per arm (mean ± sd, CI, n, coverage) and every pairwise test."""
    metric = metric or c.primary
    better = "lower" if c.better(metric) == "minimize" else "higher"
    lines = [c.question] if c.question else []
    if c.protocol:
        lines.append(f"held-out tokens: {c.protocol}")
    lines.append(f"{metric} ({unit_of(metric) or 'value'}, {better} is better); Welch's t-test, 95% intervals")
    for a in c.arms:
        s = a.summaries.get(metric)
        if s is None:
            lines.append(f"  {a.name}: not measured")
            continue
        ci = f"95% CI [{num(s.ci_low)}, {num(s.ci_high)}]" if s.ci_low is not None else "no CI (n = 1)"
        cover = f", on {a.coverage(metric)}" if a.coverage(metric) else ""
        lines.append(f"  {a.name}: {num(s.mean)} ± {num(s.sd)} ({ci}, n = {s.n}{cover})")
    for p in (p for p in c.pairs if p.metric == metric):
        d = p.difference
        ci = f" [{num(d.ci_low)}, {num(d.ci_high)}]" if d.ci_low is not None else ""
        test = f", t = {num(d.t, 3)}, df = {num(d.df, 3)}, p = {num(d.p, 3)}" if d.test == "welch" else ""
        ratio = f", {p.b}/{p.a} = {num(d.ratio, 3)}" if d.ratio is not None else ""
        lines.append(f"  {p.b} − {p.a}: {d.diff:+.4g}{ci}{ratio}{test}: {d.verdict}")
    return lines


def write_comparison(c: Comparison, out: Path) -> list[Path]:
    """Write the statistics files into ``out``; returns them (``comparison.json`` last)."""
    out.mkdir(parents=True, exist_ok=True)
    files = [write_text(out / "arms.csv", _csv(ARM_COLUMNS, arm_rows(c))),
             write_text(out / "pairs.csv", _csv(PAIR_COLUMNS, pair_rows(c)))]
    md = ["# Comparison", "", "```", *headline(c), "```", "",
          "Every metric of every arm: `arms.csv`; every pairwise test: `pairs.csv`.", ""]
    files.append(write_text(out / "comparison.md", "\n".join(md)))
    files.append(write_json(out / "comparison.json", finite(c.to_json())))
    return files


def finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value
