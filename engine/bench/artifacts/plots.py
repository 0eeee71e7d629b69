"""Plots of one run's benchmark rows (PNG + PDF), drawn with the house style (``style.py``).

Each PNG carries its provenance and the exact numbers it draws as PNG text chunks:
``caramba:runs`` (run ids and manifest hashes) and ``caramba:data`` (JSON: for each
series its label and x/y values), so a reader — or a test — can check that the picture
shows the data it claims; the figure's footer names the runs too. A vector PDF of the
same figure is written next to each PNG.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from caramba.engine.bench.artifacts import style

Row = dict[str, Any]
Series = dict[str, list[float]]


def label_of(row: Row, keys: list[str]) -> str:
    """A series label from the row's values of ``keys`` (e.g. ``student · q8/b32 · B=1``)."""
    parts = []
    for key in keys:
        value = row.get(key)
        if value is not None:
            parts.append(f"{key}={value}" if key in ("batch", "gen_len") else str(value))
    return " · ".join(parts) or "all"


def series(rows: list[Row], x: str, y: str, keys: list[str]) -> dict[str, Series]:
    """Group rows into labelled series sorted by x, skipping missing/NaN y."""
    out: dict[str, Series] = {}
    for row in rows:
        value = row.get(y)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        s = out.setdefault(label_of(row, keys), {"x": [], "y": []})
        s["x"].append(float(row[x]))
        s["y"].append(float(value))
    for s in out.values():
        order = sorted(range(len(s["x"])), key=s["x"].__getitem__)
        s["x"], s["y"] = [s["x"][i] for i in order], [s["y"][i] for i in order]
    return out


def save(fig: Any, path: Path, data: dict[str, Any], provenance: list[tuple[str, str]]) -> Path:
    """Write ``fig`` as PNG (data and provenance as text chunks) and PDF; returns the PNG path."""
    return style.save(fig, path, data, provenance)[0]


def line_panels(path: Path, rows: list[Row], x: str, panels: list[tuple[str, str]], keys: list[str], xlabel: str,
                title: str, provenance: list[tuple[str, str]], logx: bool = True) -> Path:
    """One subplot per (y key, y label), one line per series of ``keys``; y keys → series in the PNG data."""
    fig, axes = style.figure(len(panels))
    data: dict[str, Any] = {}
    handles: dict[str, Any] = {}
    for ax, (y, ylabel) in zip(axes, panels):
        data[y] = series(rows, x, y, keys)
        for i, (label, s) in enumerate(data[y].items()):
            look = style.look(i)
            (handles[label],) = ax.plot(s["x"], s["y"], color=look["color"], linestyle=look["linestyle"],
                                        marker=look["marker"], markersize=4, label=label)
        if logx:
            style.context_axis(ax, sorted({int(v) for s in data[y].values() for v in s["x"]}))
        style.auto_log(ax, [v for s in data[y].values() for v in s["y"]])
        ax.set_xlabel(xlabel + (", log scale" if logx else ""))
        ax.set_ylabel(ylabel)
    fig.suptitle(title)
    style.legend_below(fig, list(handles.values()), list(handles))
    return save(fig, path, data, provenance)


def bars(path: Path, rows: list[Row], value: str, keys: list[str], ylabel: str, title: str,
         provenance: list[tuple[str, str]]) -> Path:
    """One point per row (label from ``keys``) with ± its ``<value>_std`` across repeats as an error bar."""
    labels = [label_of(r, keys) for r in rows]
    values = [float(r[value]) for r in rows]
    errors = [float(r.get(f"{value}_std") or 0.0) for r in rows]
    fig, (ax,) = style.figure(1, width=max(3.5, 0.6 * len(rows) + 2))
    for i, (v, e) in enumerate(zip(values, errors)):
        look = style.look(i)
        ax.errorbar([i], [v], yerr=[e], fmt=look["marker"], color=look["color"], capsize=4, markersize=6)
    rotate = len(rows) > 3 or max(len(t) for t in labels) > 12
    ax.set_xticks(range(len(rows)), labels, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(False, axis="x")
    return save(fig, path, {value: {"labels": labels, "y": values, "std": errors}}, provenance)


def training_curves(path: Path, metrics: list[Row], provenance: list[tuple[str, str]], run_key: str | None = None) -> Path:
    """Training loss and validation loss against step, one panel each, log scale when the range calls for it.

    The unit is nats/token, or "distillation objective" for rows a ``trainer.upcycle`` phase
    logged (``objective: distillation``: block distance or KL + CE, not next-token CE).
    """
    panels = [("train", "loss", "training loss"), ("eval", "val_loss", "validation loss")]
    data: dict[str, Series] = {}
    for row in metrics:
        for kind, key, _ in panels:
            value = row.get(key)
            if row.get("kind", "train") == kind and isinstance(value, (int, float)) and "step" in row:
                prefix = f"{row[run_key]} · " if run_key else ""
                s = data.setdefault(f"{prefix}{kind}/{key}", {"x": [], "y": []})
                s["x"].append(float(row["step"]))
                s["y"].append(float(value))
    distilled = {row.get("objective") == "distillation" for row in metrics}
    unit = {frozenset({True}): "distillation objective", frozenset({False}): "nats/token"}.get(
        frozenset(distilled), "nats/token; distillation runs: their objective")
    shown = [p for p in panels if any(label.endswith(f"{p[0]}/{p[1]}") for label in data)]
    fig, axes = style.figure(max(len(shown), 1))
    handles: dict[str, Any] = {}
    for ax, (kind, key, name) in zip(axes, shown):
        mine = {label: s for label, s in data.items() if label.endswith(f"{kind}/{key}")}
        for i, (label, s) in enumerate(mine.items()):
            look = style.look(i)
            (handles[label.rsplit(" · ", 1)[0] if run_key else name],) = ax.plot(
                s["x"], s["y"], color=look["color"], linestyle=look["linestyle"],
                marker=look["marker"] if len(s["x"]) < 20 else None, markersize=4)
        logged = style.auto_log(ax, [v for s in mine.values() for v in s["y"]])
        ax.set_xlabel("step (optimiser updates)")
        ax.set_ylabel(style.label(name, unit) + (", log scale" if logged else ""))
        ax.set_title(name)
    if run_key:
        style.legend_below(fig, list(handles.values()), list(handles))
    return save(fig, path, {"curves": data}, provenance)


def read_png_data(path: Path) -> dict[str, Any]:
    """The ``caramba:data``, ``caramba:runs`` and ``caramba:overlaps`` chunks of a PNG written by :func:`save`."""
    from PIL import Image

    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        text = dict(getattr(image, "text", {}))
    return {"data": json.loads(text["caramba:data"]), "runs": json.loads(text["caramba:runs"]),
            "overlaps": json.loads(text.get("caramba:overlaps", "[]"))}
