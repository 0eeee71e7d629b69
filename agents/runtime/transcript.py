"""The files every session writes: transcript (Markdown, JSONL) and summary.

All are derived from the checkpoint (:class:`SessionState`) and rewritten atomically,
however the session ends (completed, stopped by its budget, failed), so they are the
same whether a session ran in one go, was resumed or was replayed. The transcript shows
each tool call with ✓/✗ and its result (truncated), and why a turn ended early; the
summary says how the session ended and what it used, per agent and in total. A process
adds its own sections to the summary (the brainstorm's proposals).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from caramba.agents.runtime.state import SessionState, TurnRecord
from caramba.agents.usage import Usage
from caramba.engine.store.atomic import write_text

TRANSCRIPT_FILES = ["transcript.md", "transcript.jsonl", "summary.md"]


def write_transcript(folder: Path, title: str, team: list[tuple[str, str]], state: SessionState,
                     label: Callable[[TurnRecord], str], summary_extra: list[str]) -> list[str]:
    """Write ``transcript.md``, ``transcript.jsonl`` and ``summary.md``; returns their names."""
    write_text(folder / "transcript.md", transcript_markdown(title, state, label))
    write_text(folder / "transcript.jsonl", "".join(json.dumps(asdict(t), sort_keys=True) + "\n" for t in state.turns))
    write_text(folder / "summary.md", summary_markdown(title, team, state, summary_extra))
    return list(TRANSCRIPT_FILES)


def transcript_markdown(title: str, state: SessionState, label: Callable[[TurnRecord], str]) -> str:
    """Every turn: speaker, tool calls (✓/✗, arguments, result), text."""
    lines = [f"# Transcript: {title}", ""]
    for turn in state.turns:
        lines += [f"## {turn.role} ({turn.persona}) — {label(turn)}", ""]
        for call in turn.tools:
            mark = "✓" if call.ok else "✗"
            lines.append(f"- {mark} `{call.name}({json.dumps(call.args, sort_keys=True)[:200]})`")
            if call.result:
                lines.append(f"  → `{call.result.replace('`', "'")}`")
        if turn.note:
            lines += ["", f"> turn ended early: {turn.note}"]
        lines += ["", turn.text.strip() or "_(no text)_", ""]
    return "\n".join(lines)


def summary_markdown(title: str, team: list[tuple[str, str]], state: SessionState, extra: list[str]) -> str:
    """Status line, team, the process's lines, and usage per agent and in total."""
    total = Usage()
    lines = [f"# Session summary: {title}", "", f"**{state.message or state.status}**", "",
             f"- status: {state.status}", f"- team: {', '.join(f'{r} ({p})' for r, p in team)}",
             f"- turns completed: {len(state.turns)}", *extra,
             "", "| agent | calls | prompt tokens | completion tokens | cost |", "|---|---|---|---|---|"]
    for role in [r for r, _ in team if r in state.usage]:
        usage = Usage.from_json(state.usage[role])
        total.add(usage)
        cost = f"${usage.cost_usd:.4f}" if usage.cost_known else "unknown"
        lines.append(f"| {role} | {usage.calls} | {usage.prompt_tokens:,} | {usage.completion_tokens:,} | {cost} |")
    lines += ["", f"Total: {total.describe()}", ""]
    return "\n".join(lines)
