"""What every agent session is given (:class:`SessionOptions`) and returns (:class:`SessionResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from rich.console import Console

#: How a session ended. ``completed_without_proposals`` is a process's own outcome
#: (it ran to the end but produced nothing usable); ``failed`` covers provider errors
#: and crashes (the message says which; the session resumes from its checkpoint).
Status = Literal["completed", "completed_without_proposals", "stopped_budget", "failed"]

#: Exit code of the process commands per status (2 is kept for configuration errors).
EXIT_CODES: dict[str, int] = {"completed": 0, "stopped_budget": 0, "completed_without_proposals": 3, "failed": 1}


@dataclass
class SessionOptions:
    """How to run a session; the process's own settings come from its manifest or command.

    ``model``, ``api_base``, ``api_key_env`` and ``price_per_mtok`` override every
    persona's model settings; ``budget_usd``/``budget_tokens`` limit the session;
    ``replay`` answers every model call from a recording; ``mcp_url`` (+ ``mcp_token``)
    reaches a running HTTP server instead of starting ``caramba mcp`` over stdio;
    ``observers`` receive session events besides the live view (tests use this).
    """

    workspace: Path
    output_dir: Path
    model: str | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    price_per_mtok: tuple[float, float] | None = None
    budget_usd: float | None = None
    budget_tokens: int | None = None
    replay: Path | None = None
    mcp_url: str | None = None
    mcp_token: str | None = None
    console: Console | None = None
    observers: list[Any] = field(default_factory=list)

    def filled_from(self, process: Any) -> "SessionOptions":
        """These options with what they leave open filled from a manifest's process settings.

        ``process`` is a process target's settings (``BrainstormProcess``, ``DevelopmentProcess``,
        ``PaperWriteProcess``: each has ``model``, ``api_base``, ``api_key_env``,
        ``price_per_mtok``, ``budget_usd`` and ``budget_tokens``). A value given here (by the
        command line or the MCP call) wins; the manifest fills the rest.
        """
        return replace(
            self, model=self.model or process.model, api_base=self.api_base or process.api_base,
            api_key_env=self.api_key_env or process.api_key_env,
            price_per_mtok=self.price_per_mtok or process.price_per_mtok,
            budget_usd=self.budget_usd if self.budget_usd is not None else process.budget_usd,
            budget_tokens=self.budget_tokens if self.budget_tokens is not None else process.budget_tokens)


@dataclass
class SessionResult:
    """How a session ended (see :data:`Status`), its usage and the files it wrote."""

    status: Status
    message: str
    output_dir: Path
    usage: dict[str, Any]
    outputs: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The process command's exit code for this outcome (:data:`EXIT_CODES`)."""
        return EXIT_CODES[self.status]
