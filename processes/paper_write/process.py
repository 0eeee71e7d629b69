"""The paper session on the agent runtime: draft, build, then review and revise rounds.

Order of turns (each checkpointed by the runtime as soon as it completes):

1. ``draft`` (writer): every section through ``write_section``, each checked at once;
2. the build (``build_paper``: provenance of every number in the sources and in the
   PDF's text, claims against the statistics, citations, pdflatex); when it fails the
   writer gets ``fix-<stage>-<k>`` turns with the issues (``fix_attempts``), and a build
   still failing ends the session ``failed`` with the issues (file:line, message, hint)
   while the previous good PDF stays;
3. for each round N: ``review-N`` (reviewer, ``submit_review``: the NeurIPS form), then —
   unless the overall score did not rise above the previous round's — ``revise-N``
   (writer: ``write_section`` and ``answer_point`` per review point), and the build again.

Everything the turns produced lives in their actions (sections, reviews, answers), so
``paper.tex`` is a function of the checkpoint: a resumed session and a replay (every
model call answered from ``recording.jsonl``) write the same paper. A resumed session does
not rebuild a stage whose build succeeded before (its ``paper.pdf`` stays as it was).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from caramba.agents.runtime import AgentSession, SessionState
from caramba.processes.paper_write import prompts
from caramba.processes.paper_write.config import REVIEWER, WRITER, PaperConfig
from caramba.processes.paper_write.outputs import remember_parts, summary_lines, write_rounds
from caramba.processes.paper_write.record import PaperRecord
from caramba.processes.paper_write.review import Review, review_markdown
from caramba.processes.paper_write.sections import current_sections
from caramba.processes.paper_write.tools import answer_point_tool, submit_review_tool, write_section_tool


class PaperWrite:
    """The paper_write :class:`~caramba.agents.runtime.Process` (see the module docstring)."""

    def __init__(self, config: PaperConfig, record: PaperRecord) -> None:
        self.config, self.record = config, record
        self.session: AgentSession = None  # type: ignore[assignment]  (set by run)

    # ── the Process protocol ──────────────────────────────────────────────────────────
    async def run(self, session: AgentSession) -> tuple[str, str]:
        """Draft, build, review rounds; the outcome says how it ended."""
        self.session = session
        if "code" not in session.state.data:
            session.state.data["code"] = await self._code_graph()
            session.checkpoint()
        self.record.code = session.state.data["code"]
        await self._writer("draft", "draft", 0, prompts.draft_task(self._context()))
        failure = await self._build("draft")
        if failure:
            return "failed", failure
        previous: int | None = None
        for number in range(1, self.config.rounds + 1):
            review = await self._review(number)
            if review is None:
                return "completed", self._done(f"the reviewer handed in no review in round {number}")
            if previous is not None and review.overall <= previous:
                return "completed", self._done(f"the overall score stopped rising ({previous} → {review.overall})")
            await self._revise(number, review)
            failure = await self._build(f"revise-{number}")
            if failure:
                return "failed", failure
            previous = review.overall
        return "completed", self._done(f"{self.config.rounds} review round(s)")

    def summary_lines(self, state: SessionState) -> list[str]:
        return summary_lines(state)

    def write_outputs(self, folder: Path, state: SessionState) -> list[str]:
        return write_rounds(folder, state)

    async def _code_graph(self) -> list[dict[str, Any]]:
        """The code-graph entries of the classes the arms differ in (``find_symbol``);
        empty when the graph is not synced (the writer then works from the manifests)."""
        found: list[dict[str, Any]] = []
        for name in self.record.differing_classes():
            answer = await self.session.call_tool("find_symbol", {"name": name, "limit": 5})
            if not answer["ok"]:
                self.session.notice(f"code graph: {name} not looked up ({answer['errors'][0]['message'][:120]})")
                continue
            found += [{k: s.get(k) for k in ("qualname", "file", "line")} for s in answer.get("symbols", [])]
        return found

    # ── turns ─────────────────────────────────────────────────────────────────────────
    def _context(self) -> str:
        return self.record.context()

    async def _writer(self, turn_id: str, kind: str, round_: int, message: str, points: dict[str, str] | None = None
                      ) -> Any:
        """A writer turn with ``write_section`` (and ``answer_point`` when answering a review)."""
        folder, check = self.session.folder, self.record.check_section

        def tools(actions: dict[str, Any]) -> list[Any]:
            given = [write_section_tool(actions, folder, check)]
            return given + ([answer_point_tool(actions, points)] if points is not None else [])

        return await self.session.turn(turn_id, WRITER, kind, round_, message, tools)

    async def _review(self, number: int) -> Review | None:
        """Turn ``review-N``: the reviewer's form, or None when none was handed in."""
        sections = current_sections(self.session.state)
        places = {*sections, *self.record.comparison_keys()}
        message = prompts.review_task(number, self.record.pdf_text(self.session.folder), sections,
                                      self.record.comparison_keys())
        turn = await self.session.turn(f"review-{number}", REVIEWER, "review", number, message,
                                       lambda actions: [submit_review_tool(actions, places)])
        return Review.model_validate(turn.actions["review"]) if "review" in turn.actions else None

    async def _revise(self, number: int, review: Review) -> None:
        """Turn ``revise-N``: rewrite sections, answer every point."""
        review_md = review_markdown(number, review.model_dump())
        message = prompts.revise_task(self._context(), number, review_md, review.points(),
                                      current_sections(self.session.state))
        await self._writer(f"revise-{number}", "revise", number, message, review.points())

    async def _build(self, stage: str) -> str | None:
        """Build the paper; on failure give the writer its fix turns. None when it built,
        else the failure message (the build's issues, the previous good PDF kept)."""
        builds = self.session.state.data.get("builds", [])
        if any(b["stage"] == stage and b["ok"] for b in builds) and (self.session.folder / "paper.pdf").is_file():
            return None  # built before this session was resumed: its paper.pdf is that build's
        for attempt in range(self.config.fix_attempts + 1):
            if attempt:
                issues = self.session.state.data["builds"][-1]["issues"]
                await self._writer(f"fix-{stage}-{attempt}", "fix", attempt,
                                   prompts.fix_task(self._context(), issues, current_sections(self.session.state)))
            outcome = await asyncio.to_thread(self.record.build, self.session.folder,
                                              current_sections(self.session.state))
            self.session.state.data.setdefault("builds", []).append({"stage": stage, "attempt": attempt, **outcome})
            self.session.checkpoint()
            if outcome["ok"]:
                self.session.notice(f"paper built after {stage}: paper.pdf ({outcome.get('pages', '?')} pages)")
                return None
            self.session.notice(f"paper build after {stage} failed: {len(outcome['issues'])} issue(s)")
        issues = self.session.state.data["builds"][-1]["issues"]
        kept = " The previous good paper.pdf is kept." if (self.session.folder / "paper.pdf").is_file() else ""
        listed = "; ".join(_render(issue) for issue in issues)
        return f"failed: the paper does not build after {stage}: {listed}.{kept}"

    def _done(self, why: str) -> str:
        """The completion message; the claims and reviews go to memory with the session."""
        self.session.state.data["remember"] = remember_parts(self.session.state, self.record)
        self.session.checkpoint()
        return f"completed: paper.pdf after {why}"


def _render(issue: dict[str, Any]) -> str:
    """``file:line: message (hint)`` of one build issue."""
    where = f"{issue.get('file')}:{issue.get('line')}" if issue.get("line") else str(issue.get("file"))
    hint = f" (hint: {issue['hint']})" if issue.get("hint") else ""
    return f"{where}: {issue.get('message')}{hint}"
