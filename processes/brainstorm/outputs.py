"""The brainstorm's own files: ``proposals.md`` and ``proposals.csv`` (dry-run costs).

Derived from the proposals in the checkpoint and rewritten atomically however the
session ends; the transcript and summary are the runtime's
(:mod:`caramba.agents.runtime.transcript`), with :func:`summary_lines` added.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from caramba.engine.store.atomic import write_text
from caramba.processes.brainstorm.proposals import Proposal

COLUMNS = ("proposal", "author", "target", "params", "tokens", "train_flops_per_token", "memory_bytes", "file")


def write_proposals(folder: Path, proposals: list[Proposal]) -> list[str]:
    """Write the proposal files; returns their paths relative to ``folder`` (manifests included)."""
    rows = cost_rows(proposals)
    write_text(folder / "proposals.csv", _csv(rows))
    write_text(folder / "proposals.md", proposals_markdown(proposals, rows))
    return ["proposals.md", "proposals.csv"] + [p.file for p in proposals if p.file]


def summary_lines(proposals: list[Proposal]) -> list[str]:
    """The summary's proposal lines."""
    valid = sum(p.status == "valid" for p in proposals)
    lines = [f"- proposals: {valid} valid of {len(proposals)}"]
    for p in proposals:
        lines.append(f"  - {p.index}. **{p.name}** ({p.author}): {p.status}" + (f" — {p.reason}" if p.reason else "")
                     + (f" — `{p.file}`" if p.file else ""))
    return lines


def cost_rows(proposals: list[Proposal]) -> list[dict[str, Any]]:
    """One row per dry-run target of each valid proposal."""
    rows = []
    for proposal in proposals:
        for plan in proposal.dry_run:
            runs = plan.get("runs", [])
            rows.append({"proposal": proposal.name, "author": proposal.author, "target": plan.get("target"),
                         "params": plan.get("params_total"), "tokens": plan.get("tokens_total"),
                         "train_flops_per_token": _pick(runs, "flops_per_token", "train_step"),
                         "memory_bytes": _pick(runs, "memory_bytes", "total"),
                         "file": proposal.file})
    return rows


def _pick(runs: list[dict[str, Any]], field: str, key: str) -> Any:
    """``runs[0][field][key]`` of a dry-run plan (training FLOPs per token, total memory)."""
    values = runs[0].get(field) if runs else None
    return values.get(key) if isinstance(values, dict) else None


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def proposals_markdown(proposals: list[Proposal], rows: list[dict[str, Any]]) -> str:
    """The proposals, their status and the dry-run cost table."""
    lines = ["# Proposals", ""]
    for p in proposals:
        lines += [f"## {p.index}. {p.name} ({p.author}) — {p.status}", "", f"- hypothesis: {p.hypothesis}",
                  f"- refuted if: {p.refuted_if}", f"- manifest attempts: {p.attempts}"]
        lines += [f"- manifest: `{p.file}` (run it: `caramba run {p.file}`)"] if p.file else []
        lines += [f"- failure: {p.reason}"] if p.reason else []
        lines.append("")
    if not proposals:
        lines += ["No proposals were recorded.", ""]
    lines += ["## Dry-run costs", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)
