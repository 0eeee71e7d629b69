"""The session's files: transcript (Markdown, JSONL), proposals (YAML + cost table), summary.

All are derived from the checkpoint (:class:`SessionState`) and rewritten atomically,
so they are the same whether a session ran in one go, was resumed or was replayed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from caramba.agents.usage import Usage
from caramba.engine.store.atomic import write_text
from caramba.processes.brainstorm.config import BrainstormConfig
from caramba.processes.brainstorm.prompts import label
from caramba.processes.brainstorm.state import Proposal, SessionState

COLUMNS = ("proposal", "author", "target", "params", "tokens", "train_flops_per_token", "memory_bytes", "file")


def write_outputs(folder: Path, config: BrainstormConfig, state: SessionState) -> list[str]:
    """Write every output file; returns their paths relative to ``folder``."""
    write_text(folder / "transcript.md", transcript_markdown(config, state))
    write_text(folder / "transcript.jsonl", "".join(json.dumps(asdict(t), sort_keys=True) + "\n" for t in state.turns))
    rows = cost_rows(state.proposals)
    write_text(folder / "proposals.csv", _csv(rows))
    write_text(folder / "proposals.md", proposals_markdown(state.proposals, rows))
    write_text(folder / "summary.md", summary_markdown(config, state))
    files = ["transcript.md", "transcript.jsonl", "proposals.md", "proposals.csv", "summary.md"]
    return files + [p.file for p in state.proposals if p.file]


def transcript_markdown(config: BrainstormConfig, state: SessionState) -> str:
    """Every turn: speaker, tool calls, text."""
    lines = [f"# Brainstorm transcript: {config.topic}", ""]
    for turn in state.turns:
        lines += [f"## {turn.role} ({turn.persona}) — {label(turn)}", ""]
        for call in turn.tools:
            mark = "✓" if call.ok else "✘"
            lines.append(f"- {mark} `{call.name}({json.dumps(call.args, sort_keys=True)[:200]})`")
        lines += ["" if turn.tools else "", turn.text.strip() or "_(no text)_", ""]
    return "\n".join(lines)


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
        lines += [f"- manifest: `{p.file}`"] if p.file else []
        lines += [f"- failure: {p.reason}"] if p.reason else []
        lines.append("")
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


def summary_markdown(config: BrainstormConfig, state: SessionState) -> str:
    """Status line, team, proposals and usage per agent and in total."""
    total = Usage()
    lines = [f"# Session summary: {config.topic}", "", f"**{state.message or state.status}**", "",
             f"- team: {', '.join(f'{r} ({p})' for r, p in config.team)}",
             f"- turns completed: {len(state.turns)}",
             f"- proposals: {sum(p.status == 'valid' for p in state.proposals)} valid of {len(state.proposals)}",
             "", "| agent | calls | prompt tokens | completion tokens | cost |", "|---|---|---|---|---|"]
    for role in [r for r, _ in config.team if r in state.usage]:
        usage = Usage.from_json(state.usage[role])
        total.add(usage)
        cost = f"${usage.cost_usd:.4f}" if usage.cost_known else "unknown"
        lines.append(f"| {role} | {usage.calls} | {usage.prompt_tokens:,} | {usage.completion_tokens:,} | {cost} |")
    lines += ["", f"Total: {total.describe()}", ""]
    for p in state.proposals:
        lines.append(f"- {p.index}. **{p.name}** ({p.author}): {p.status}" + (f" — {p.reason}" if p.reason else ""))
    return "\n".join(lines) + "\n"
