"""The upcycling preset's arms over seeds: ``docs/figures/upcycle_dba_gpu/seeds.csv`` as a figure (PNG + PDF).

The CSV holds, per arm and seed, the held-out perplexity each ``caramba run`` printed (the
perplexity benchmark's windows, the same for every run; the commands are in
docs/measurements.md, "Issue 18 — seeds"). The figure shows every seed as a dot and each
arm's mean as a bar, relative to the teacher, so "within 5% of the teacher" and "better
than scratch at equal tokens" read off one axis.

    python benchmarks/upcycle_seeds.py [--csv docs/figures/upcycle_dba_gpu/seeds.csv]
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Read the CSV, draw dots per seed and a bar per arm mean, write seeds.png and seeds.pdf beside it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "docs/figures/upcycle_dba_gpu/seeds.csv")
    args = parser.parse_args()
    ratios: dict[str, list[float]] = defaultdict(list)
    with args.csv.open() as handle:
        for row in csv.DictReader(handle):
            ratios[row["arm"]].append(float(row["ppl_over_teacher"]))
    arms = list(ratios)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for x, arm in enumerate(arms):
        values = ratios[arm]
        mean = sum(values) / len(values)
        ax.bar(x, mean - 0.9, bottom=0.9, width=0.6, color="#cccccc", edgecolor="#555555")
        ax.scatter([x] * len(values), values, color="#1f4e79", zorder=3, s=18)
        ax.annotate(f"{mean:.3f} (n={len(values)})", (x, mean), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.axhline(1.05, color="#b22222", linestyle="--", linewidth=1)
    ax.text(len(arms) - 0.5, 1.052, "teacher + 5%", color="#b22222", fontsize=8, ha="right", va="bottom")
    ax.set_xticks(range(len(arms)), arms)
    ax.set_ylim(0.9, max(max(v) for v in ratios.values()) + 0.04)
    ax.set_ylabel("held-out perplexity / teacher's")
    ax.set_title("Upcycled DBA student vs DBA from scratch (KV ratio 0.5), one H200", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    for suffix in ("png", "pdf"):
        fig.savefig(args.csv.with_name(f"seeds.{suffix}"), dpi=150)
    print(f"wrote {args.csv.with_name('seeds.png')} and .pdf")


if __name__ == "__main__":
    main()
