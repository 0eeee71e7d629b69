"""The brainstorm on the agent runtime: opening, N rounds, summaries, proposals, manifests.

Order of turns (each checkpointed by the runtime as soon as it completes): ``open``
(moderator) → for each round ``round-R.<role>`` per participant, then ``summary-R``
(the moderator may call ``end_discussion``) → ``close`` (the moderator records
proposals) → ``proposal-K.attempt-A`` (authors write manifests, ``proposals.py``).
Every turn is a fresh conversation whose message holds the discussion so far
(``prompts.py``), so a resumed session sends the models exactly what it would have sent.

Outcome: ``completed`` when at least one proposal's manifest is valid,
``completed_without_proposals`` when the session ran to its end without one (exit 3);
budget stops and provider failures are the runtime's (``stopped_budget``, ``failed``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from caramba.agents.runtime import AgentSession, SessionState, no_tools
from caramba.processes.brainstorm import prompts
from caramba.processes.brainstorm.config import MODERATOR, BrainstormConfig
from caramba.processes.brainstorm.outputs import summary_lines, write_proposals
from caramba.processes.brainstorm.proposals import Proposal, write_manifests
from caramba.processes.brainstorm.tools import end_discussion_tool, record_proposal_tool


class Brainstorm:
    """The brainstorm :class:`~caramba.agents.runtime.Process` (see the module docstring)."""

    def __init__(self, config: BrainstormConfig) -> None:
        self.config, self.max_attempts = config, config.max_attempts
        self.proposals: list[Proposal] = []
        self.session: AgentSession = None  # type: ignore[assignment]  (set by run)

    # ── what the proposal loop uses ───────────────────────────────────────────────────
    folder = property(lambda self: self.session.folder)
    workspace = property(lambda self: self.session.options.workspace)

    async def turn(self, turn_id: str, role: str, kind: str, round_: int, task: str, tools: Any = no_tools) -> Any:
        """One turn whose message is the discussion so far plus ``task``."""
        message = prompts.message(self.config, self.session.state.turns, task)
        return await self.session.turn(turn_id, role, kind, round_, message, tools)

    async def call_tool(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """Call MCP tool ``tool`` with ``args`` through the session's connection, outside any agent turn."""
        return await self.session.call_tool(tool, args)

    def checkpoint(self) -> None:
        """Keep the proposals in the checkpoint and save it."""
        self.session.state.data["proposals"] = [asdict(p) for p in self.proposals]
        self.session.checkpoint()

    # ── the Process protocol ──────────────────────────────────────────────────────────
    async def run(self, session: AgentSession) -> tuple[str, str]:
        """Discussion, then manifests; the outcome of the module docstring."""
        self.session = session
        self.proposals = [Proposal(**p) for p in session.state.data.get("proposals", [])]
        await self._discussion()
        await write_manifests(self)
        valid = sum(p.status == "valid" for p in self.proposals)
        counts = f"{len(session.state.turns)} turns, {valid} of {len(self.proposals)} proposals valid"
        if valid == 0:
            return "completed_without_proposals", f"completed without a valid proposal: {counts}"
        return "completed", f"completed: {counts}"

    def summary_lines(self, state: SessionState) -> list[str]:
        """The transcript's closing lines: each proposal with its status."""
        return summary_lines(self._proposals_of(state))

    def write_outputs(self, folder: Path, state: SessionState) -> list[str]:
        """Write proposals.md and proposals.csv into ``folder``; return them and the proposals' manifests."""
        return write_proposals(folder, self._proposals_of(state))

    @staticmethod
    def _proposals_of(state: SessionState) -> list[Proposal]:
        return [Proposal(**p) for p in state.data.get("proposals", [])]

    async def _discussion(self) -> None:
        c = self.config
        await self.turn("open", MODERATOR, "open", 0, prompts.open_task(c))
        for round_ in range(1, c.rounds + 1):
            for role in c.participants:
                await self.turn(f"round-{round_}.{role}", role, "contribution", round_, prompts.contribution_task(c, round_))
            tools = (lambda a: [end_discussion_tool(a)]) if round_ < c.rounds else no_tools
            summary = await self.turn(f"summary-{round_}", MODERATOR, "summary", round_, prompts.summary_task(c, round_),
                                      tools)
            if "end_discussion" in summary.actions:
                self.session.notice(f"the moderator ended the discussion: {summary.actions['end_discussion']}")
                break
        close = await self.turn("close", MODERATOR, "close", 0, prompts.close_task(c),
                                lambda a: [record_proposal_tool(a, c.participants, c.max_proposals)])
        if not self.proposals:
            self.proposals = [Proposal(i + 1, **p) for i, p in enumerate(close.actions.get("proposals", []))]
            self.checkpoint()
