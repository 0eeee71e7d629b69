"""Figures and tables of real comparisons (2 arms × 3 seeds; 4 arms × 3 seeds = 12 runs; 12 one-seed arms).

Every PNG records the result of the label-overlap check (matplotlib's drawn bounding boxes
of every title, axis label, tick label and legend entry) in its ``caramba:overlaps`` chunk;
these tests assert it is empty, that the plotted numbers are the comparison's, that a PDF
sits next to each PNG, and that the LaTeX tables compile with pdflatex without running off
the page.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from caramba.engine.bench.artifacts import style
from caramba.engine.bench.artifacts.plots import read_png_data
from tests.bench.comparisons import invoke

FIGURES = ("curves", "final_metrics", "memory_vs_context")


def folder(root: Path, name: str) -> Path:
    return root / ".caramba" / "compare" / name


def test_the_overlap_check_sees_overlapping_labels() -> None:
    fig, (ax,) = style.figure(1)
    ax.set_title("a long title over the axes")
    fig.text(0.5, 0.98, "a long title over the axes too", ha="center", va="top")
    ax.text(0.5, 0.5, "here", transform=ax.transAxes)
    ax.text(0.5, 0.5, "there", transform=ax.transAxes)
    assert ("here", "there") in style.overlaps(fig)


@pytest.mark.parametrize("name", ["cmp", "cmp4"])
def test_comparison_figures_show_the_statistics_without_overlaps(name: str, four_arms: Path) -> None:
    out = folder(four_arms, name)
    report = json.loads((out / "comparison.json").read_text())
    for stem in FIGURES:
        png = read_png_data(out / f"{stem}.png")
        assert png["overlaps"] == [], (stem, png["overlaps"])
        assert len(png["runs"]) == 3 * len(report["arms"])
        assert (out / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
    final = read_png_data(out / "final_metrics.png")["data"]
    for arm in report["arms"]:
        ppl = arm["metrics"]["perplexity.ppl"]
        assert final["perplexity.ppl"][arm["name"]]["mean"] == pytest.approx(ppl["mean"])
        assert final["perplexity.ppl"][arm["name"]]["ci"] == pytest.approx([ppl["ci_low"], ppl["ci_high"]])
        assert sorted(final["perplexity.ppl"][arm["name"]]["values"]) == pytest.approx(sorted(ppl["values"]))
    curves = read_png_data(out / "curves.png")["data"]["val_loss"]
    for arm in report["arms"]:
        assert curves[arm["name"]]["mean"][-1] == pytest.approx(arm["metrics"]["val_loss"]["mean"])
        assert curves[arm["name"]]["low"][-1] == pytest.approx(min(arm["metrics"]["val_loss"]["values"]))
    kv = read_png_data(out / "memory_vs_context.png")["data"]["kv"]
    assert kv["gqa"]["mib"][-1] / kv["mha"]["mib"][-1] == pytest.approx(0.25)
    assert kv["mha"]["context"] == [64, 256, 1024]


def test_twelve_one_seed_arms_render_without_overlaps(four_arms: Path, tmp_path: Path) -> None:
    from caramba.engine.bench.compare import Arm, compare
    from caramba.engine.store import RunStore

    records = [r for r in RunStore(four_arms).list() if r.manifest_name in ("cmp", "cmp4")]
    assert len({r.id for r in records}) == 12
    arms = [Arm(f"{r.target}_seed{r.run.rsplit('s', 1)[-1]}", (r,)) for r in records]
    comparison, files = compare(arms, tmp_path / "twelve")
    assert len(comparison.arms) == 12
    for stem in FIGURES:
        assert read_png_data(tmp_path / "twelve" / f"{stem}.png")["overlaps"] == [], stem
    # 12 arms make each final-metrics panel ~8 in wide: the panels wrap into rows, one a row,
    # so the figure stays within the house width (13 in = 1,950 px at 150 dpi) instead of 3,700 px
    from PIL import Image

    width, height = Image.open(tmp_path / "twelve" / "final_metrics.png").size
    assert width <= style.MAX_WIDTH * 150 and height > width, (width, height)
    assert style.grid(3, 8.2, style.MAX_WIDTH) == (3, 1) and style.grid(3, 3.8, style.MAX_WIDTH) == (1, 3)
    assert style.grid(7, 4.0, style.MAX_WIDTH) == (3, 3) and style.grid(4, 4.2, style.MAX_WIDTH) == (2, 2)


def test_a_single_runs_plots_have_no_overlaps(two_arms: Path) -> None:
    run = sorted((two_arms / ".caramba" / "runs").glob("mha-train-s1-*"))[0] / "artifacts"
    pngs = sorted(run.glob("*.png"))
    assert {"training_curves.png", "memory_scaling.png", "perplexity_comparison.png"} <= {p.name for p in pngs}
    for png in pngs:
        assert read_png_data(png)["overlaps"] == [], png.name
        assert png.with_suffix(".pdf").is_file()


def test_the_table_marks_best_significance_and_ratios(four_arms: Path) -> None:
    out = folder(four_arms, "cmp4")
    report = json.loads((out / "comparison.json").read_text())
    with (out / "comparison_table.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["arm"] for r in rows] == ["mha", "gqa", "dba", "mqa"] and {r["n"] for r in rows} == {"3"}
    assert [r["KV / mha"] for r in rows] == ["1.00", "0.25", "0.88", "0.50"]
    means = {a["name"]: a["metrics"]["perplexity.ppl"]["mean"] for a in report["arms"]}
    best = min(means, key=means.get)
    tex = (out / "comparison.tex").read_text()
    best_line = next(line for line in tex.splitlines() if line.startswith(f"{best} &"))
    assert best_line.split(" & ")[2].startswith(r"\textbf{")
    significant = {p["b"] for p in report["pairs"] if p["metric"] == "perplexity.ppl" and p["a"] == "mha"
                   and p["verdict"] == "significant at 95%"}
    for row in rows[1:]:
        assert (row["PPL: differs from mha at 95%"] == "True") == (row["arm"] in significant)
        assert (r"$^\dagger$" in next(line for line in tex.splitlines() if line.startswith(f"{row['arm']} &"))
                .split(" & ")[2]) == (row["arm"] in significant)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (CI installs texlive-latex-recommended)")
def test_comparison_tables_compile_and_fit_the_page(four_arms: Path, tmp_path: Path) -> None:
    ids = [r.name for r in sorted((four_arms / ".caramba" / "runs").iterdir())]
    invoke(four_arms, "compare", *ids, "--out", str(tmp_path / "all"))  # 12 runs side by side: 36 memory rows
    memory = (tmp_path / "all" / "memory.tex").read_text()
    assert memory.count(r"\begin{table}") == 2 and "continued 2/2" in memory
    files = [folder(four_arms, "cmp") / "comparison.tex", folder(four_arms, "cmp4") / "comparison.tex",
             tmp_path / "all" / "comparison.tex", tmp_path / "all" / "memory.tex", tmp_path / "all" / "perplexity.tex"]
    inputs = "\n".join(rf"\input{{{f.as_posix()}}}\clearpage" for f in files)
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
                                      + inputs + "\n\\end{document}\n")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Overfull \\hbox" not in (tmp_path / "doc.log").read_text(errors="replace")
