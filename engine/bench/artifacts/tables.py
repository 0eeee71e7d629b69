"""The tables of the benchmark artifacts: which columns each benchmark type shows, CSV files.

A :class:`TableSpec` names the columns of the human tables (Markdown and LaTeX) of one
benchmark type; the CSV holds every column. Every CSV row starts with ``run_id`` and
``manifest_digest`` so a number copied anywhere stays traceable to its run.
A cell shows ``mean ± std`` when its metric was repeated (``repeats`` > 1).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caramba.engine.store.atomic import write_text

Row = dict[str, Any]
PROVENANCE = ["run_id", "manifest_digest"]


@dataclass(frozen=True)
class Column:
    """One displayed column: the row key, its header and how a value is shown."""

    key: str
    header: str
    fmt: str = "{}"
    scale: float = 1.0


@dataclass(frozen=True)
class TableSpec:
    """The displayed table of one benchmark type."""

    name: str
    title: str
    columns: tuple[Column, ...]


MIB = 1.0 / (1 << 20)
SPECS: dict[str, TableSpec] = {
    "perplexity": TableSpec("perplexity", "Perplexity on held-out tokens", (
        Column("model", "model"), Column("tokens", "tokens", "{:,.0f}"),
        Column("nll", "NLL", "{:.4f}"), Column("ppl", "PPL", "{:.3f}"))),
    "latency": TableSpec("latency", "Latency (median of timed runs)", (
        Column("model", "model"), Column("cache", "cache"), Column("batch", "B"), Column("prompt_len", "prompt"),
        Column("gen_len", "gen"), Column("prefill_ms", "prefill ms", "{:.2f}"), Column("ttft_ms", "TTFT ms", "{:.2f}"),
        Column("decode_ms_per_token", "decode ms/tok", "{:.3f}"), Column("tokens_per_s", "tok/s", "{:,.1f}"))),
    "memory": TableSpec("memory", "Memory: measured KV-cache bytes and the model's tensors (weights + KV)", (
        Column("model", "model"), Column("cache", "cache"), Column("batch", "B"), Column("seq_len", "tokens"),
        Column("kv_bytes", "KV MiB", "{:.3f}", MIB), Column("kv_vs_fp16", "KV / fp16", "{:.2f}"),
        Column("tensor_bytes", "tensors MiB", "{:.2f}", MIB))),
}


def with_run_column(spec: TableSpec) -> TableSpec:
    """The same table with a leading ``run`` column (side-by-side comparisons)."""
    return TableSpec(spec.name, spec.title, (Column("run_id", "run"), *spec.columns))


def cell(row: Row, column: Column) -> str:
    """The text of one cell (``—`` when missing, ``mean ± std`` when repeated)."""
    value = row.get(column.key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    scale = (lambda v: v * column.scale) if column.scale != 1.0 else (lambda v: v)
    text = column.fmt.format(scale(value))
    std = row.get(f"{column.key}_std")
    if std is not None and row.get("repeats", 1) > 1 and not math.isnan(std):
        text += " ± " + column.fmt.format(scale(std)).rstrip("x")
    return text


def columns_of(rows: list[Row]) -> list[str]:
    """Every key of ``rows`` in first-seen order, provenance first."""
    keys = list(PROVENANCE)
    for row in rows:
        keys += [k for k in row if k not in keys]
    return keys


def write_csv(path: Path, rows: list[Row], run_id: str, digest: str) -> Path:
    """Write ``rows`` as CSV, each stamped with ``run_id`` and ``manifest_digest`` (kept when present)."""
    stamped = [{"run_id": run_id, "manifest_digest": digest, **row} for row in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns_of(stamped), lineterminator="\n")
    writer.writeheader()
    writer.writerows(stamped)
    return write_text(path, buffer.getvalue())


def read_csv(path: Path) -> list[Row]:
    """Rows of a benchmark CSV with numbers parsed back (empty cells become None)."""
    with path.open(newline="") as handle:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _parse(text: str) -> Any:
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def markdown(spec: TableSpec, rows: list[Row]) -> str:
    """A GitHub-flavoured Markdown table of ``rows``."""
    head = "| " + " | ".join(c.header for c in spec.columns) + " |"
    numeric = [bool(rows) and all(isinstance(r.get(c.key), (int, float)) for r in rows) for c in spec.columns]
    rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
    body = ["| " + " | ".join(cell(r, c) for c in spec.columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])
