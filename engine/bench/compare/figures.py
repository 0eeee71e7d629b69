"""The figures of a comparison, drawn with the house style (``artifacts/style.py``).

* ``curves.png|pdf`` — training and validation loss against step: per arm the mean over
  seeds (steps every seed logged) and a band from the lowest to the highest seed; log
  scale when the losses span more than the style's range;
* ``final_metrics.png|pdf`` — one panel per headline metric: each seed's value (small
  dots) and the arm's mean with its 95% confidence interval (error bar);
* ``memory_vs_context.png|pdf`` — measured KV-cache bytes and the model's tensors
  (weights + KV cache, from the live tensors; not the process) against context length.

``build_*`` return the matplotlib figure and its plotted data (tests check them for
overlapping labels); ``write_figures`` saves every figure the data allows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from caramba.engine.bench.artifacts import style
from caramba.engine.bench.compare.analysis import ArmResult, Comparison
from caramba.engine.bench.compare.headline import display_name, display_unit, headline_metrics

MIB = 1.0 / (1 << 20)
CURVES = (("train_loss", "training loss"), ("val_loss", "validation loss"))


def _arm_label(arm: ArmResult) -> str:
    return f"{arm.name} (n={len(arm.runs)})"


def mean_band(arm: ArmResult, metric: str) -> tuple[list[float], list[float], list[float], list[float]] | None:
    """(steps, mean, low, high) over the arm's seeds at the steps every seed logged."""
    curves = [r.curves[metric] for r in arm.runs if metric in r.curves]
    if not curves:
        return None
    common = sorted(set.intersection(*(set(steps) for steps, _ in curves)))
    if not common:
        return None
    table = np.array([[dict(zip(steps, values))[s] for s in common] for steps, values in curves])
    return common, table.mean(0).tolist(), table.min(0).tolist(), table.max(0).tolist()


Series = dict[str, list[float]]


def line_panels(c: Comparison, panels: list[tuple[str, str]], series: Callable[[ArmResult, str], Series | None],
                x: str, y: str, finish: Callable[[Any, str, str, dict[str, Series]], None],
                title: str) -> tuple[Any, dict[str, Any]]:
    """One panel per ``(key, name)`` with a line per arm; the shared set-up of the curve and memory figures.

    ``series(arm, key)`` gives the arm's points as a dict with the x values under ``x``, the
    y values under ``y`` and optionally ``low``/``high`` (drawn as a band); that dict is what
    the figure records as its data. ``finish(ax, key, name, drawn)`` labels and scales a
    panel from what it drew (``drawn``: arm name → its points). One legend entry per arm.
    """
    fig, axes = style.figure(len(panels))
    data: dict[str, Any] = {}
    handles = []
    for ax, (key, name) in zip(axes, panels):
        data[key] = {}
        for i, arm in enumerate(c.arms):
            points = series(arm, key)
            if not points:
                continue
            look = style.look(i)
            (line,) = ax.plot(points[x], points[y], color=look["color"], linestyle=look["linestyle"],
                              marker=None if len(points[x]) > 25 else look["marker"], markersize=3.5,
                              label=_arm_label(arm))
            if "low" in points:
                ax.fill_between(points[x], points["low"], points["high"], color=look["color"], alpha=0.18, linewidth=0)
            if ax is axes[0]:
                handles.append(line)
            data[key][arm.name] = points
        finish(ax, key, name, data[key])
    fig.suptitle(title)
    style.legend_below(fig, handles, [h.get_label() for h in handles])
    return fig, data


def build_curves(c: Comparison) -> tuple[Any, dict[str, Any]] | None:
    """Loss curves per arm with the seed band (module docstring); None when no run logged losses."""
    panels = [(m, name) for m, name in CURVES if any(mean_band(a, m) for a in c.arms)]
    if not panels:
        return None

    def series(arm: ArmResult, metric: str) -> Series | None:
        band = mean_band(arm, metric)
        return None if band is None else dict(zip(("step", "mean", "low", "high"), band))

    def finish(ax: Any, metric: str, name: str, drawn: dict[str, Series]) -> None:
        logged = style.auto_log(ax, [v for points in drawn.values() for v in points["low"] + points["high"]])
        ax.set_xlabel("step (optimiser updates)")
        ax.set_ylabel(style.label(name, "nats/token") + (", log scale" if logged else ""))
        ax.set_title(name)

    return line_panels(c, panels, series, "step", "mean", finish,
                       "Loss per arm: line = mean of seeds, band = lowest to highest seed")


def build_final(c: Comparison) -> tuple[Any, dict[str, Any]]:
    """Seeds and mean ± 95% CI per arm for each headline metric (module docstring)."""
    metrics = headline_metrics(c)
    rotate = len(c.arms) > 4 or max(len(a.name) for a in c.arms) > 10
    fig, axes = style.figure(len(metrics), width=max(3.2, 0.55 * len(c.arms) + 1.6), height=3.4)  # wraps beyond ~4 arms
    data: dict[str, Any] = {}
    for ax, metric in zip(axes, metrics):
        unit, scale = display_unit(metric)
        data[metric] = {}
        for i, arm in enumerate(c.arms):
            values = [v * scale for v in arm.values[metric]]
            s = arm.summaries[metric]
            look = style.look(i)
            jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(i + jitter, values, s=10, color="0.55", zorder=2, linewidths=0)
            err = None
            if s.ci_low is not None:
                err = [[(s.mean - s.ci_low) * scale], [(s.ci_high - s.mean) * scale]]
            ax.errorbar([i], [s.mean * scale], yerr=err, fmt=look["marker"], color=look["color"], capsize=4,
                        markersize=6, zorder=3, elinewidth=1.4)
            data[metric][arm.name] = {"values": values, "mean": s.mean * scale,
                                      "ci": None if err is None else [s.ci_low * scale, s.ci_high * scale]}
        ax.set_xticks(range(len(c.arms)), [a.name for a in c.arms], rotation=35 if rotate else 0,
                      ha="right" if rotate else "center")
        ax.set_xlim(-0.6, len(c.arms) - 0.4)
        name = display_name(metric)
        ax.set_ylabel(style.label(name, unit if unit != name else ""))
        ax.grid(False, axis="x")
        ax.set_title(name.split(" @ ")[0])
    fig.suptitle("Final metrics per arm: marker = mean, bar = 95% CI, dots = seeds")
    return fig, data


def memory_rows(arm: ArmResult) -> dict[int, tuple[float, float | None]]:
    """context length → (KV bytes, model-tensor bytes), mean over seeds, first cache kind, batch 1 (or the smallest)."""
    rows = [r for run in arm.runs for r in run.memory if r.get("kv_bytes") is not None]
    if not rows:
        return {}
    kind, batch = rows[0]["cache"], min(r["batch"] for r in rows)
    points: dict[int, list[tuple[float, float | None]]] = {}
    for r in rows:
        if r["cache"] == kind and r["batch"] == batch:
            points.setdefault(int(r["seq_len"]), []).append((float(r["kv_bytes"]), r.get("tensor_bytes")))
    out = {}
    for length, values in sorted(points.items()):
        tensors = [t for _, t in values if t is not None]
        out[length] = (float(np.mean([k for k, _ in values])), float(np.mean(tensors)) if tensors else None)
    return out


def build_memory(c: Comparison) -> tuple[Any, dict[str, Any]] | None:
    """KV-cache and model-tensor MiB against context length per arm; None without memory benchmarks."""
    per_arm = {a.name: memory_rows(a) for a in c.arms}
    if not any(per_arm.values()):
        return None
    has_tensors = any(t is not None for rows in per_arm.values() for _, t in rows.values())
    panels = [("kv", "KV cache")] + ([("tensors", "weights + KV cache")] if has_tensors else [])

    def series(arm: ArmResult, key: str) -> Series | None:
        rows = per_arm[arm.name]
        picked = {length: kv_tensors[1 if key == "tensors" else 0] for length, kv_tensors in rows.items()}
        xs = [length for length, value in picked.items() if value is not None]
        return {"context": xs, "mib": [picked[length] * MIB for length in xs]} if xs else None

    def finish(ax: Any, key: str, name: str, drawn: dict[str, Series]) -> None:
        style.context_axis(ax, sorted({x for points in drawn.values() for x in points["context"]}))
        style.auto_log(ax, [v for points in drawn.values() for v in points["mib"]])
        ax.set_ylabel(style.label(name, "MiB"))
        ax.set_title(name)

    return line_panels(c, panels, series, "context", "mib", finish,
                       "Memory of the model's tensors against context (measured from the live tensors, batch 1)")


def write_figures(c: Comparison, out: Path) -> list[Path]:
    """Save every figure the comparison's data allows (PNG and PDF each)."""
    files: list[Path] = []
    for stem, built in (("curves", build_curves(c)), ("final_metrics", build_final(c)),
                        ("memory_vs_context", build_memory(c))):
        if built is not None:
            fig, data = built
            files += style.save(fig, out / f"{stem}.png", data, c.provenance)
    return files
