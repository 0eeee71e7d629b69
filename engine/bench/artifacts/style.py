"""The one figure style of caramba: palette, sizes, scales, legends, saving and the overlap check.

Every plot (a run's benchmark plots, a comparison's figures) is drawn through here, so
they look alike and follow the same rules:

* **colour-blind-safe palette**: Okabe & Ito (2008), eight colours; beyond eight series
  the line style and marker change too, so 12 or more arms stay distinguishable;
* **labelled axes with units** (the caller passes them; :func:`label` joins name and unit);
* **log scale where the range calls for it**: a y axis whose positive values span more
  than :data:`LOG_RANGE` (max/min) is drawn on a log scale (:func:`auto_log`);
* **at most** :data:`MAX_WIDTH` **inches wide**: panels that would not fit in one row
  wrap into rows (:func:`figure`), so a 12-arm comparison stays readable on a page;
* **legends outside the data**: one entry per arm/series, below the panels, in as many
  columns as fit (:func:`legend_below`);
* **PNG and PDF** of every figure (:func:`save`), the PNG carrying the plotted numbers
  and the runs as text chunks (``caramba:data``, ``caramba:runs``) and the result of the
  overlap check (``caramba:overlaps``, a JSON list of overlapping label pairs);
* :func:`overlaps` lists every pair of text labels whose drawn boxes intersect (tests
  assert there is none; :func:`save` logs a warning if a figure has any).
"""

from __future__ import annotations

import io
import json
import logging
import math
from itertools import combinations
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from caramba.engine.store.atomic import write_bytes  # noqa: E402

log = logging.getLogger("caramba")
# Okabe & Ito, "Color Universal Design" (2008): black first is replaced by blue so lines read on white
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LOG_RANGE = 4.0
MAX_WIDTH = 13.0  # inches (1,950 px at the PNG's 150 dpi): a wider row of panels wraps into rows
RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
      "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
      "grid.alpha": 0.3, "grid.linewidth": 0.6, "lines.linewidth": 1.6, "pdf.fonttype": 42, "figure.dpi": 100}


def look(index: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``index``-th series (distinct for any count)."""
    return {"color": PALETTE[index % len(PALETTE)], "linestyle": LINESTYLES[(index // len(PALETTE)) % len(LINESTYLES)],
            "marker": MARKERS[index % len(MARKERS)]}


def grid(panels: int, width: float, max_width: float | None) -> tuple[int, int]:
    """(rows, columns) for ``panels`` panels of ``width`` inches: one row while it fits in ``max_width``,
    else as few rows as fit, the panels spread evenly over them (7 panels in 3 columns: 3 + 3 + 1)."""
    if max_width is None or width * panels <= max_width:
        return 1, panels
    rows = math.ceil(panels / max(1, int(max_width // width)))
    return rows, math.ceil(panels / rows)


def figure(panels: int, width: float = 4.2, height: float = 3.2,
           max_width: float | None = MAX_WIDTH) -> tuple[Figure, list[Any]]:
    """A figure of ``panels`` axes of ``width`` × ``height`` inches in the house style: side by side,
    wrapped into rows (:func:`grid`) when one row would be wider than ``max_width`` inches."""
    rows, columns = grid(panels, width, max_width)
    with plt.rc_context(RC):
        fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False,
                                 layout="constrained")
    cells = list(axes.flat)
    for ax in cells[panels:]:
        fig.delaxes(ax)
    for ax in cells[:panels]:
        ax.set_axisbelow(True)
    return fig, cells[:panels]


def styled(ax: Any) -> None:
    """Apply the house rc (fonts, grid, spines) to axes made elsewhere."""
    ax.grid(True, alpha=RC["grid.alpha"], linewidth=RC["grid.linewidth"])
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def label(name: str, unit: str) -> str:
    """An axis label with its unit: ``validation loss (nats/token)``."""
    return f"{name} ({unit})" if unit else name


def auto_log(ax: Any, values: list[float], axis: str = "y") -> bool:
    """Use a log scale on ``axis`` when the positive ``values`` span more than :data:`LOG_RANGE`; True if so."""
    positive = [v for v in values if v > 0]
    if len(positive) < 2 or len(positive) < len(values) or max(positive) / min(positive) <= LOG_RANGE:
        return False
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    return True


def context_axis(ax: Any, lengths: list[int]) -> None:
    """A log₂ x axis of context lengths, ticks at the measured lengths written as numbers (1,024 not 2¹⁰)."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [f"{x:,}" for x in lengths])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("context length (tokens, log scale)")


def legend_below(fig: Figure, handles: list[Any], labels: list[str]) -> Any:
    """One figure legend under the panels, as many columns as the labels' lengths allow."""
    if not handles:
        return None
    width_chars = fig.get_figwidth() * 12
    longest = max(len(t) for t in labels) + 4
    ncol = max(1, min(len(labels), int(width_chars // longest)))
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)


def texts(fig: Figure) -> list[Text]:
    """Every text the figure draws: titles, axis and tick labels, legend, annotations (not hidden ticks)."""
    hidden = _hidden_tick_labels(fig)
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def _hidden_tick_labels(fig: Figure) -> set[int]:
    """Ids of tick labels matplotlib keeps but does not draw: their tick lies outside the view limits."""
    hidden: set[int] = set()
    for ax in fig.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = min(limits), max(limits)
            tolerance = 1e-9 * (hi - lo)
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not (lo - tolerance <= tick.get_loc() <= hi + tolerance) or not tick.get_visible():
                    hidden |= {id(tick.label1), id(tick.label2)}
    return hidden


def overlaps(fig: Figure, pad: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of texts whose rendered bounding boxes intersect (``pad`` pixels of tolerance)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer).expanded(1.0, 1.0)) for t in texts(fig)]
    hits = []
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        if box_a.width == 0 or box_b.width == 0:
            continue
        if (min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0) > pad
                and min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0) > pad):
            hits.append((a, b))
    return hits


def footer(fig: Figure, provenance: list[tuple[str, str]], runs_file: str = "comparison.json") -> None:
    """The runs the figure comes from, small, under everything (a count beyond three runs; ``runs_file`` lists them)."""
    runs = [f"{r} ({d[:12]})" for r, d in provenance]
    text = ", ".join(runs) if len(runs) <= 3 else f"{len(runs)} runs (ids in the PNG metadata and {runs_file})"
    fig.text(0.0, 0.0, f"caramba · {text}", fontsize=6, color="0.4", ha="left", va="top",
             transform=fig.transFigure)


def save(fig: Figure, png: Path, data: dict[str, Any], provenance: list[tuple[str, str]],
         runs_file: str = "comparison.json") -> list[Path]:
    """Write ``png`` and the same figure as a vector PDF next to it; returns both paths.

    ``runs_file`` names the file that lists the runs when the footer only counts them.
    """
    footer(fig, provenance, runs_file)
    hits = overlaps(fig)
    if hits:
        log.warning("figure %s: overlapping labels %s", png.name, hits[:3])
    meta = {"caramba:runs": json.dumps([{"run_id": r, "manifest_digest": d} for r, d in provenance]),
            "caramba:data": json.dumps(data), "caramba:overlaps": json.dumps(hits), "Software": "caramba"}
    runs = "; ".join(f"run {r}, manifest sha256 {d}" for r, d in provenance)  # the PDF's Subject
    paths = []
    for path, fmt, extra in ((png, "png", {"dpi": 150, "metadata": meta}),
                             (png.with_suffix(".pdf"), "pdf", {"metadata": {"Creator": "caramba", "Subject": runs}})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, bbox_inches="tight", pad_inches=0.05, **extra)
        paths.append(write_bytes(path, buffer.getvalue()))
    plt.close(fig)
    return paths
