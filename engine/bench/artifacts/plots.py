"""PNG plots of benchmark rows (matplotlib, Agg backend: no display needed).

Each PNG carries its provenance and the exact numbers it draws as PNG text chunks:
``caramba:runs`` (run ids and manifest hashes) and ``caramba:data`` (JSON: for each
series its label and x/y values), so a reader — or a test — can check that the picture
shows the data it claims, and the figure's footer prints the run ids too.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from caramba.engine.store.atomic import write_bytes  # noqa: E402

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
    """Write ``fig`` as PNG with the provenance footer and the plotted data as text chunks."""
    runs = ", ".join(f"{r} ({d[:12]})" for r, d in provenance)
    fig.text(0.01, 0.005, f"caramba · {runs}", fontsize=6, color="0.4", ha="left", va="bottom")
    buffer = io.BytesIO()
    meta = {"caramba:runs": json.dumps([{"run_id": r, "manifest_digest": d} for r, d in provenance]),
            "caramba:data": json.dumps(data), "Software": "caramba"}
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    return write_bytes(path, buffer.getvalue())


def line_panels(path: Path, rows: list[Row], x: str, panels: list[tuple[str, str]], keys: list[str], xlabel: str,
                title: str, provenance: list[tuple[str, str]], logx: bool = True) -> Path:
    """One subplot per (y key, y label), one line per series of ``keys``; y keys → series in the PNG data."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    data: dict[str, Any] = {}
    for ax, (y, ylabel) in zip(axes[0], panels):
        data[y] = series(rows, x, y, keys)
        for label, s in data[y].items():
            ax.plot(s["x"], s["y"], marker="o", label=label)
        if logx:
            ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if data[y]:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, path, data, provenance)


def bars(path: Path, rows: list[Row], value: str, keys: list[str], ylabel: str, title: str,
         provenance: list[tuple[str, str]]) -> Path:
    """One bar per row (label from ``keys``) with its ``<value>_std`` as an error bar."""
    labels = [label_of(r, keys) for r in rows]
    values = [float(r[value]) for r in rows]
    errors = [float(r.get(f"{value}_std") or 0.0) for r in rows]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(rows) + 2), 4))
    ax.bar(range(len(rows)), values, yerr=errors, capsize=4, color="tab:blue")
    ax.set_xticks(range(len(rows)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    return save(fig, path, {value: {"labels": labels, "y": values, "std": errors}}, provenance)


def training_curves(path: Path, metrics: list[Row], provenance: list[tuple[str, str]], run_key: str | None = None) -> Path:
    """Loss-like metrics (keys containing ``loss`` or ``ppl``) against step, train and eval rows."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    data: dict[str, Series] = {}
    for row in metrics:
        for key, value in row.items():
            if ("loss" in key or "ppl" in key) and isinstance(value, (int, float)) and "step" in row:
                prefix = f"{row[run_key]} · " if run_key else ""
                s = data.setdefault(f"{prefix}{row.get('kind', 'train')}/{key}", {"x": [], "y": []})
                s["x"].append(float(row["step"]))
                s["y"].append(float(value))
    for label, s in data.items():
        ax.plot(s["x"], s["y"], label=label, marker="o" if len(s["x"]) < 20 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("value")
    ax.set_title("Training curves")
    ax.grid(True, alpha=0.3)
    if data:
        ax.legend(fontsize=7)
    return save(fig, path, {"curves": data}, provenance)


def read_png_data(path: Path) -> dict[str, Any]:
    """The ``caramba:data`` and ``caramba:runs`` chunks of a PNG written by :func:`save`."""
    from PIL import Image

    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        text = dict(getattr(image, "text", {}))
    return {"data": json.loads(text["caramba:data"]), "runs": json.loads(text["caramba:runs"])}
