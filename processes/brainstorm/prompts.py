"""What each turn asks: the standing rules, the discussion so far, and the turn's task.

Every turn is a fresh conversation whose one user message holds the topic, the whole
discussion so far (each speaker's text, labelled) and the task of this turn, so each
persona sees the others' turns and a resumed session sends exactly the same messages.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from caramba.agents.runtime.state import TurnRecord
from caramba.processes.brainstorm.config import BrainstormConfig

if TYPE_CHECKING:
    from caramba.processes.brainstorm.proposals import Proposal

RULES = """You take part in a moderated research brainstorm of caramba, an ML architecture
research tool. Facts about the codebase come from the code-graph tools, costs from the
manifest tools (dry_run_manifest); cite what you looked up. Keep each contribution under
250 words."""


def discussion(config: BrainstormConfig, turns: list[TurnRecord]) -> str:
    """The topic and every discussion turn so far, as Markdown."""
    lines = [f"# Brainstorm: {config.topic}", "", "Team: " + ", ".join(
        f"{role} ({persona})" for role, persona in config.team), ""]
    spoken = [t for t in turns if t.kind != "manifest"]
    if spoken:
        lines.append("## Discussion so far")
    for turn in spoken:
        consulted = sorted({c.name for c in turn.tools})
        note = f" (consulted: {', '.join(consulted)})" if consulted else ""
        lines += ["", f"### {turn.role} — {label(turn)}{note}", "", turn.text.strip()]
    return "\n".join(lines)


def label(turn: TurnRecord) -> str:
    """``opening``, ``round 2``, ``summary of round 2``, ``closing``, ``manifest``."""
    return {"open": "opening", "contribution": f"round {turn.round}", "summary": f"summary of round {turn.round}",
            "close": "closing", "manifest": f"manifest ({turn.id})"}[turn.kind]


def message(config: BrainstormConfig, turns: list[TurnRecord], task: str) -> str:
    """The one user message of a turn."""
    return f"{discussion(config, turns)}\n\n## Your task now\n\n{task.strip()}\n"


def open_task(config: BrainstormConfig) -> str:
    """The moderator's opening."""
    return (f"Open the brainstorm. Restate the topic as a sharp question, say what is already known in this "
            f"codebase (look it up), and tell each participant ({', '.join(config.participants)}) what to focus on. "
            f"There will be {config.rounds} round(s).")


def contribution_task(config: BrainstormConfig, round_: int) -> str:
    """A participant's turn."""
    return (f"Round {round_} of {config.rounds}. Contribute from your expertise: respond to what the others said, "
            f"back claims with what you look up, and end with one concrete suggestion.")


def summary_task(config: BrainstormConfig, round_: int) -> str:
    """The moderator's summary of a round."""
    if round_ < config.rounds:
        return (f"Summarise round {round_}: agreements, disagreements, open questions, and what round {round_ + 1} "
                f"should settle. If the discussion has converged, call end_discussion(reason) to go to proposals now.")
    return f"Summarise round {round_}, the last round: what was agreed, what remains open."


def close_task(config: BrainstormConfig) -> str:
    """The moderator's closing: record the proposals."""
    return (f"Close the discussion with at most {config.max_proposals} concrete experiment proposals. Record each with "
            f"record_proposal(name, author, hypothesis, refuted_if): name is short (letters, digits, _ . -), author is "
            f"the participant best placed to write its manifest (one of: {', '.join(config.participants)}). Then give "
            f"a short closing statement.")


def manifest_task(proposal: Proposal, attempt: int, max_attempts: int) -> str:
    """The author's turn to write (or fix) a proposal's manifest."""
    task = (f"Write the manifest of proposal {proposal.index} `{proposal.name}`.\nHypothesis: {proposal.hypothesis}\n"
            f"Refuted if: {proposal.refuted_if}\n\nStart from generate_manifest or a preset, keep it small (few "
            f"steps), check it with validate_manifest, then call submit_manifest(manifest=<the complete YAML text>). "
            f"Attempt {attempt} of {max_attempts}.")
    if proposal.manifest is not None and proposal.errors:
        task += ("\n\nYour previous manifest is invalid. The validator reported these errors (field path, line, "
                 f"message, hint):\n```json\n{_errors(proposal.errors)}\n```\nPrevious manifest:\n```yaml\n"
                 f"{proposal.manifest.rstrip()}\n```\nFix every error and submit the corrected manifest.")
    return task


def _errors(errors: list[dict[str, Any]]) -> str:
    return json.dumps([{k: e.get(k) for k in ("path", "line", "message", "hint")} for e in errors], indent=1)
