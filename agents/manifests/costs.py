"""Dry-run costs of saved manifests: the numbers kept, and the table a process writes.

:func:`compact_plan` keeps, of a ``dry_run_manifest`` plan, what a cost table needs
(parameters, tokens, training FLOPs per token, memory); :func:`cost_rows` makes one row
per dry-run target; :func:`csv_table` and :func:`markdown_table` render them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

PLAN_FIELDS = ("target", "type", "params_total", "params_trainable", "tokens_total", "kv_bytes_per_token", "device")
RUN_FIELDS = ("id", "steps", "tokens", "flops_per_token", "memory_bytes")
COLUMNS = ("proposal", "author", "target", "params", "tokens", "train_flops_per_token", "memory_bytes", "file")


def compact_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """The fields of a dry-run plan the cost table uses."""
    out = {k: plan.get(k) for k in PLAN_FIELDS}
    out["runs"] = [{k: run.get(k) for k in RUN_FIELDS} for run in plan.get("runs", [])]
    return out


def cost_rows(name: str, author: str, file: str | None, plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per dry-run target of one saved manifest."""
    rows = []
    for plan in plans:
        runs = plan.get("runs", [])
        rows.append({"proposal": name, "author": author, "target": plan.get("target"),
                     "params": plan.get("params_total"), "tokens": plan.get("tokens_total"),
                     "train_flops_per_token": _pick(runs, "flops_per_token", "train_step"),
                     "memory_bytes": _pick(runs, "memory_bytes", "total"), "file": file})
    return rows


def _pick(runs: list[dict[str, Any]], field: str, key: str) -> Any:
    """``runs[0][field][key]`` of a dry-run plan (training FLOPs per token, total memory)."""
    values = runs[0].get(field) if runs else None
    return values.get(key) if isinstance(values, dict) else None


def csv_table(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV with :data:`COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    """The rows as Markdown table lines."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    return lines + ["| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |" for row in rows]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)
