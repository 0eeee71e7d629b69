"""What every process run is given (:class:`ProcessOptions`) and returns (:class:`ProcessResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console

Status = Literal["completed", "stopped_budget"]


@dataclass
class ProcessOptions:
    """How to run a process; the process's own settings come from its manifest or command.

    ``model`` and ``api_base`` override every persona's model; ``budget_usd`` overrides
    the process's budget; ``replay`` answers every model call from a recording;
    ``mcp_url`` reaches a running HTTP server instead of starting ``caramba mcp``;
    ``observers`` receive session events besides the live view (tests use this).
    """

    workspace: Path
    output_dir: Path
    model: str | None = None
    api_base: str | None = None
    budget_usd: float | None = None
    replay: Path | None = None
    mcp_url: str | None = None
    mcp_token: str | None = None
    console: Console | None = None
    observers: list[Any] = field(default_factory=list)


@dataclass
class ProcessResult:
    """How a process ended: ``completed``, or ``stopped_budget`` (a clean stop)."""

    status: Status
    message: str
    output_dir: Path
    usage: dict[str, Any]
    outputs: list[str] = field(default_factory=list)
