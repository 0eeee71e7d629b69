"""The brainstorm's own files: ``proposals.md`` and ``proposals.csv`` (dry-run costs).

Derived from the proposals in the checkpoint and rewritten atomically however the
session ends; the transcript and summary are the runtime's, with :func:`summary_lines`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caramba.agents.manifests.costs import cost_rows, csv_table, markdown_table
from caramba.engine.store.atomic import write_text
from caramba.processes.brainstorm.proposals import Proposal


def write_proposals(folder: Path, proposals: list[Proposal]) -> list[str]:
    """Write the proposal files; returns their paths relative to ``folder`` (manifests included)."""
    rows = [row for p in proposals for row in cost_rows(p.name, p.author, p.file, p.dry_run)]
    write_text(folder / "proposals.csv", csv_table(rows))
    write_text(folder / "proposals.md", proposals_markdown(proposals, rows))
    return ["proposals.md", "proposals.csv"] + [p.file for p in proposals if p.file]


def summary_lines(proposals: list[Proposal]) -> list[str]:
    """The summary's proposal lines."""
    lines = [f"- proposals: {sum(p.status == 'valid' for p in proposals)} valid of {len(proposals)}"]
    for p in proposals:
        lines.append(f"  - {p.index}. **{p.name}** ({p.author}): {p.status}" + (f" — {p.reason}" if p.reason else "")
                     + (f" — `{p.file}`" if p.file else ""))
    return lines


def proposals_markdown(proposals: list[Proposal], rows: list[dict[str, Any]]) -> str:
    """The proposals, their status and the dry-run cost table."""
    lines = ["# Proposals", ""] + ([] if proposals else ["No proposals were recorded.", ""])
    for p in proposals:
        lines += [f"## {p.index}. {p.name} ({p.author}) — {p.status}", "", f"- hypothesis: {p.hypothesis}",
                  f"- refuted if: {p.refuted_if}", f"- manifest attempts: {p.attempts}"]
        lines += [f"- manifest: `{p.file}` (run it: `caramba run {p.file}`)"] if p.file else []
        lines += [f"- failure: {p.reason}", ""] if p.reason else [""]
    return "\n".join(lines + ["## Dry-run costs", "", *markdown_table(rows)]) + "\n"
