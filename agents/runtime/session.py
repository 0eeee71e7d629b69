"""The agent session: what every process runs on.

An :class:`AgentSession` owns, for one output folder:

* the MCP connection: one ``caramba mcp`` over stdio (or a running HTTP server, with its
  bearer token: ``mcp_token``, else the workspace's ``mcp.token``) shared by all agents through one toolset filtered per persona, plus a
  client for the process's own tool calls (:meth:`call_tool`);
* the team's agents: each role's persona and session model (budget, per-turn limits,
  usage, recording/replay: :mod:`caramba.agents.runtime.llm`);
* turns (:meth:`turn`): run once, checkpointed in ``state.json`` at once, returned
  from the checkpoint when the session is resumed;
* the live view and the files every session writes (transcript, summary), rewritten
  however the session ends, and then the session remembered in the workspace's knowledge
  memory (:mod:`caramba.agents.runtime.remember`; ``memory.record_sessions``).

A process is a :class:`Process`: its :meth:`Process.run` drives turns and returns
``(status, message)``; :meth:`AgentSession.run` turns a budget stop into
``stopped_budget`` and a provider failure into ``failed`` (one clear message; run the
same command again to resume), and records a crash or Ctrl-C as ``failed`` before
re-raising it. docs/agents.md shows a process written on it.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from rich.console import Console

from caramba.agents.errors import BudgetReached, ProviderFailed
from caramba.agents.persona import Persona, load_persona
from caramba.agents.recording import Recorder
from caramba.agents.runtime.live import LiveView, Observers
from caramba.agents.runtime.logs import session_log
from caramba.agents.runtime.options import SessionOptions, SessionResult
from caramba.agents.runtime.remember import remember
from caramba.agents.runtime.speakers import build_speakers
from caramba.agents.runtime.state import SessionState, TurnRecord
from caramba.agents.runtime.transcript import write_transcript
from caramba.agents.runtime.turns import TurnRunner
from caramba.agents.toolset import McpConnection, build_toolset, check_allow_lists
from caramba.agents.usage import Budget, UsageMeter
from caramba.workspace.config import load_workspace

Tools = Callable[[dict[str, Any]], list[Any]]


def no_tools(_actions: dict[str, Any]) -> list[Any]:
    """A turn without process tools (only the persona's MCP tools)."""
    return []


@dataclass
class SessionSpec:
    """What identifies a session and how it is shown.

    ``config`` is compared on resume (a folder holding another session is refused);
    ``team`` lists (role, persona name) in speaking order; ``rules`` is appended to every
    persona's instruction; ``label`` names a turn in the transcript and live view.
    """

    process: str
    title: str
    config: dict[str, Any]
    team: list[tuple[str, str]]
    rules: str = ""
    label: Callable[[TurnRecord], str] = field(default=lambda turn: turn.id)


class Process(Protocol):
    """A process on the runtime (see the module docstring)."""

    async def run(self, session: "AgentSession") -> tuple[str, str]:
        """Drive the session's turns; return ``(status, message)``."""
        ...

    def summary_lines(self, state: SessionState) -> list[str]:
        """Lines the summary shows after the team (e.g. proposals); may be empty."""
        ...

    def write_outputs(self, folder: Path, state: SessionState) -> list[str]:
        """Write the process's own files; return their paths relative to ``folder``."""
        ...


class AgentSession:
    """One session on an output folder (see the module docstring)."""

    def __init__(self, spec: SessionSpec, options: SessionOptions) -> None:
        self.spec, self.options = spec, options
        self.folder: Path = options.output_dir
        self.personas: dict[str, Persona] = {role: load_persona(name, options.workspace) for role, name in spec.team}
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state = SessionState.open(self.folder, spec.process, spec.config)
        self.meter = UsageMeter(Budget(options.budget_usd, options.budget_tokens))
        self.meter.restore(self.state.usage)
        self.observer: Any = Observers(*options.observers)
        self._client: Any = None
        self._runner: TurnRunner | None = None

    async def run(self, process: Process) -> SessionResult:
        """Run (or resume) the session with ``process``; outputs are written however it ends."""
        settings = load_workspace(self.options.workspace).llm
        recorder = Recorder(self.folder / "recording.jsonl")
        speakers = build_speakers(self.spec.process, self.spec.config, self.options, self.personas, settings,
                                  recorder, self.meter)
        token = self.options.mcp_token or (load_workspace(self.options.workspace).mcp.token if self.options.mcp_url else None)
        connection = McpConnection(self.options.workspace.resolve(), self.options.mcp_url, token)
        toolset = build_toolset(connection, self.personas)
        view = LiveView(self.options.console or Console(), f"{self.spec.process}: {self.spec.title}", self.spec.team,
                        self.meter, self.spec.label)
        self.observer = Observers(view, *self.options.observers)
        # Start the agents' server, the process's server and LiteLLM's import side by side.
        served = asyncio.create_task(toolset.get_tools())
        pricing = asyncio.create_task(asyncio.to_thread(importlib.import_module, "litellm"))
        outcome: tuple[str, str] = ("failed", "interrupted before the end; run the same command again to resume")
        try:
            async with connection.client() as client:
                self._client = client
                check_allow_lists(self.personas, [t.name for t in await served])
                await pricing
                self._runner = TurnRunner(speakers, toolset, self.meter, self.observer, settings.turn, self.spec.rules)
                with view, session_log(self.folder):
                    outcome = await self._guarded(process)
        except BaseExceptionGroup as group:  # the MCP client's task group wraps what a turn raised
            raise _only(group) from None
        finally:
            served.cancel()
            await toolset.close()
            self.state.status, self.state.message = outcome
            self.checkpoint()
            files = write_transcript(self.folder, self.spec.title, self.spec.team, self.state, self.spec.label,
                                     process.summary_lines(self.state))
            files += process.write_outputs(self.folder, self.state)
            remember(self.options.workspace, self.spec.process, self.folder, self.state)
        return SessionResult(self.state.status, self.state.message, self.folder, self.meter.to_json(),  # type: ignore[arg-type]
                             files)

    async def _guarded(self, process: Process) -> tuple[str, str]:
        """The process's outcome, with budget stops and provider failures as outcomes."""
        try:
            return await process.run(self)
        except BudgetReached as stop:
            return "stopped_budget", f"{stop} after {len(self.state.turns)} turns"
        except ProviderFailed as failure:
            return "failed", f"failed: {failure.message}. {failure.hint}"

    async def turn(self, turn_id: str, role: str, kind: str, round_: int, message: str,
                   tools: Tools = no_tools) -> TurnRecord:
        """Run one turn, or return it from the checkpoint.

        ``tools(actions)`` gives the turn's process tools, which write into ``actions``
        (kept in the record). Raises BudgetReached / ProviderFailed out of the turn;
        :meth:`run` turns them into the session's outcome.
        """
        done = self.state.turn(turn_id)
        if done is not None:
            self.observer.turn_finished(done, True)
            return done
        if self._runner is None:
            raise RuntimeError("AgentSession.turn() is called only inside AgentSession.run()")
        self.observer.turn_started(turn_id, role)
        actions: dict[str, Any] = {}
        record = await self._runner.run(turn_id, role, kind, round_, message, tools(actions), actions)
        self.state.turns.append(record)
        self.checkpoint()
        self.observer.turn_finished(record, False)
        return record

    async def call_tool(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """Call an MCP tool for the process itself: ``{ok: True, **structured}`` or ``{ok: False, errors}``."""
        result = await self._client.call_tool(tool, args)
        if result.is_error:
            text = " ".join(getattr(part, "text", "") for part in result.content)
            return {"ok": False, "errors": [{"path": "", "line": None, "message": text, "hint": f"{tool} refused it"}]}
        return {"ok": True, **(result.structured_content or {})}

    def checkpoint(self) -> None:
        """Save the state (usage included) atomically."""
        self.state.usage = {role: u.to_json() for role, u in self.meter.per_agent.items()}
        self.state.save(self.folder)

    def notice(self, text: str) -> None:
        """Show a line above the live view."""
        self.observer.notice(text)


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
