"""The brainstorm session: opening, N rounds, summaries, proposals, manifests.

Order of turns (each a :class:`TurnRecord`, checkpointed as soon as it completes):
``open`` (moderator) → for each round ``round-R.<role>`` per participant, then
``summary-R`` (the moderator may call ``end_discussion``) → ``close`` (the moderator
records proposals) → ``proposal-K.attempt-A`` (authors write manifests, see
``proposals.py``). A turn already in the checkpoint is not run again, so a session
restarted on its output folder continues where it stopped, and sends the models the
same messages it would have sent.

Budget: before every turn the session checks the usage so far; once the budget is
reached no model is called again (the moderator included), the outputs are written and
the status says ``stopped: budget of $X reached after N turns``. That is a clean end.
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from caramba.agents.persona import Persona
from caramba.agents.recording import Recorder
from caramba.agents.toolset import McpConnection, build_toolset, check_allow_lists
from caramba.agents.usage import UsageMeter
from caramba.processes.brainstorm import prompts
from caramba.processes.brainstorm.config import MODERATOR, BrainstormConfig
from caramba.processes.brainstorm.live import LiveView, Observers
from caramba.processes.brainstorm.outputs import write_outputs
from caramba.processes.brainstorm.proposals import save, write_manifests
from caramba.processes.brainstorm.speakers import speakers
from caramba.processes.brainstorm.state import Proposal, SessionState, TurnRecord
from caramba.processes.brainstorm.tools import end_discussion_tool, record_proposal_tool
from caramba.processes.brainstorm.turns import TurnRunner
from caramba.processes.options import ProcessOptions, ProcessResult


class BudgetReached(Exception):
    """Raised between turns once the session's cost reached its budget."""


def _only(group: BaseExceptionGroup) -> BaseException:
    """The one exception inside (nested) groups, or the group itself when there are several."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        item = pending.pop()
        if isinstance(item, BaseExceptionGroup):
            pending.extend(item.exceptions)
        else:
            leaves.append(item)
    return leaves[0] if len(leaves) == 1 else group


def _no_tools(_actions: dict[str, Any]) -> list[Any]:
    return []


class BrainstormSession:
    """One session on an output folder (see the module docstring)."""

    def __init__(self, config: BrainstormConfig, options: ProcessOptions, personas: dict[str, Persona]) -> None:
        self.config, self.options, self.personas = config, options, personas
        self.folder: Path = options.output_dir
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state = SessionState.open(self.folder, config)
        self.meter = UsageMeter(options.budget_usd)
        self.meter.restore(self.state.usage)
        self.max_attempts = config.max_attempts
        self.client: Any = None
        self.runner: TurnRunner | None = None
        self.observer: Any = Observers(*options.observers)

    async def run(self) -> ProcessResult:
        """Run (or resume) the session; outputs are written however it ends."""
        recorder = Recorder(self.folder / "recording.jsonl")
        roles = speakers(self.config, self.options, self.personas, recorder)
        connection = McpConnection(self.options.workspace.resolve(), self.options.mcp_url, self.options.mcp_token)
        toolset = build_toolset(connection, self.personas)
        view = LiveView(self.options.console or Console(), self.config, self.meter)
        self.observer = Observers(view, *self.options.observers)
        unpriced = sorted(r for r, s in roles.items() if s.pricing_model is None)
        if self.options.budget_usd is not None and unpriced:
            view.notice(f"the budget cannot limit {', '.join(unpriced)}: their model has no price (cost unknown)")
        # Start the agents' server, the process's server and LiteLLM's import side by side.
        served = asyncio.create_task(toolset.get_tools())
        pricing = asyncio.create_task(asyncio.to_thread(importlib.import_module, "litellm"))
        try:
            async with connection.client() as client:
                self.client = client
                check_allow_lists(self.personas, [t.name for t in await served])
                await pricing
                self.runner = TurnRunner(roles, toolset, self.meter, self.observer)
                with view:
                    try:
                        await self._discussion()
                        await write_manifests(self)
                        valid = sum(p.status == "valid" for p in self.state.proposals)
                        self._finish("completed", f"completed: {len(self.state.turns)} turns, "
                                                  f"{valid} of {len(self.state.proposals)} proposals valid")
                    except BudgetReached:
                        self._finish("stopped_budget", f"stopped: budget of ${self.meter.budget_usd:g} reached "
                                                       f"after {len(self.state.turns)} turns")
        except BaseExceptionGroup as group:  # the MCP client's task group wraps what a turn raised
            raise _only(group) from None
        finally:
            await toolset.close()
            self.checkpoint()
            files = write_outputs(self.folder, self.config, self.state)
        return ProcessResult(self.state.status, self.state.message, self.folder, self.meter.to_json(),  # type: ignore[arg-type]
                             files)

    async def _discussion(self) -> None:
        c = self.config
        await self.turn("open", MODERATOR, "open", 0, prompts.open_task(c), _no_tools)
        for round_ in range(1, c.rounds + 1):
            for role in c.participants:
                await self.turn(f"round-{round_}.{role}", role, "contribution", round_,
                                prompts.contribution_task(c, round_), _no_tools)
            tools = (lambda a: [end_discussion_tool(a)]) if round_ < c.rounds else _no_tools
            summary = await self.turn(f"summary-{round_}", MODERATOR, "summary", round_, prompts.summary_task(c, round_), tools)
            if "end_discussion" in summary.actions:
                self.observer.notice(f"the moderator ended the discussion: {summary.actions['end_discussion']}")
                break
        close = await self.turn("close", MODERATOR, "close", 0, prompts.close_task(c),
                                lambda a: [record_proposal_tool(a, c.participants, c.max_proposals)])
        if not self.state.proposals:
            self.state.proposals = [Proposal(i + 1, **p) for i, p in enumerate(close.actions.get("proposals", []))]
            self.checkpoint()

    async def turn(self, turn_id: str, role: str, kind: str, round_: int, task: str,
                   tools: Callable[[dict[str, Any]], list[Any]]) -> TurnRecord:
        """Run one turn, or return it from the checkpoint; raises BudgetReached first when spent."""
        done = self.state.turn(turn_id)
        if done is not None:
            self.observer.turn_finished(done, True)
            return done
        if self.meter.exhausted:
            raise BudgetReached
        if self.runner is None:
            raise RuntimeError("BrainstormSession.turn() is called only inside run()")
        self.observer.turn_started(turn_id, role)
        actions: dict[str, Any] = {}
        message = prompts.message(self.config, self.state.turns, task)
        record = await self.runner.run(turn_id, role, kind, round_, message, tools(actions), actions)
        self.state.turns.append(record)
        self.checkpoint()
        self.observer.turn_finished(record, False)
        return record

    async def validate(self, manifest: str) -> dict[str, Any]:
        """``validate_manifest`` through MCP: ``{ok, errors}``."""
        if "\n" not in manifest.strip():
            return {"ok": False, "errors": [{"path": "", "line": None, "message": "submit the complete manifest YAML "
                                             "text, not a name or a path", "hint": "pass the YAML document itself"}]}
        return await self._call("validate_manifest", {"manifest": manifest})

    async def dry_run(self, manifest: str) -> dict[str, Any]:
        """``dry_run_manifest`` through MCP: ``{ok, targets}`` or ``{ok: False, errors}``."""
        return await self._call("dry_run_manifest", {"manifest": manifest})

    async def _call(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(tool, args)
        if result.is_error:
            text = " ".join(getattr(part, "text", "") for part in result.content)
            return {"ok": False, "errors": [{"path": "", "line": None, "message": text, "hint": f"{tool} refused it"}]}
        return {"ok": True, **result.structured_content}

    def checkpoint(self) -> None:
        """Save the state (usage included) atomically."""
        self.state.usage = {role: u.to_json() for role, u in self.meter.per_agent.items()}
        self.state.save(self.folder)

    def save_manifest(self, proposal: Proposal) -> str:
        """Write a valid proposal's manifest file."""
        return save(self.folder, proposal)

    def _finish(self, status: str, message: str) -> None:
        self.state.status, self.state.message = status, message
