"""The live view: who is speaking, which tools they call, what the session has cost.

:class:`LiveView` is a session observer drawing a ``rich.live.Live`` panel (the team
with the current speaker marked, the current turn's tool calls with ✓/✗, the running
cost against the budget) and printing one permanent line per finished turn above it.
:class:`Observers` fans events out to the live view and to any extra observers (tests
use one to stop a session).
"""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from caramba.agents.runtime.state import TurnRecord
from caramba.agents.usage import UsageMeter


class LiveView:
    """Draws the session as it happens (see the module docstring)."""

    def __init__(self, console: Console, title: str, team: list[tuple[str, str]], meter: UsageMeter,
                 label: Callable[[TurnRecord], str]) -> None:
        self.console, self.title, self.team, self.meter, self.label = console, title, team, meter, label
        self.speaker: str | None = None
        self.turn = ""
        self.tools: list[str] = []
        self.live = Live(self._render(), console=console, refresh_per_second=8, transient=True)

    def __enter__(self) -> "LiveView":
        self.live.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.live.stop()

    def turn_started(self, turn_id: str, role: str) -> None:
        """Show ``role`` as speaking in turn ``turn_id`` (its tool list starts empty)."""
        self.speaker, self.turn, self.tools = role, turn_id, []
        self._refresh()

    def tool_started(self, role: str, name: str, args: dict[str, Any]) -> None:
        """Add a pending line for tool ``name`` with its first three arguments."""
        shown = ", ".join(f"{k}={str(v)[:30]!s}" for k, v in list(args.items())[:3])
        self.tools.append(f"… {name}({shown})")
        self._refresh()

    def tool_finished(self, role: str, name: str, ok: bool, result: Any) -> None:
        """Mark the newest pending line of tool ``name`` as succeeded (✓) or failed (✗)."""
        for index in range(len(self.tools) - 1, -1, -1):
            if self.tools[index].startswith(f"… {name}("):
                self.tools[index] = ("✓ " if ok else "✗ ") + self.tools[index][2:]
                break
        self._refresh()

    def turn_finished(self, record: TurnRecord, resumed: bool) -> None:
        """Print the finished turn's one-line summary above the live area (marked when replayed from a checkpoint)."""
        tools = f" · tools: {', '.join(('' if c.ok else '✗') + c.name for c in record.tools)}" if record.tools else ""
        state = "[dim](from checkpoint)[/] " if resumed else ""
        note = f" [yellow]({escape(record.note)})[/]" if record.note else ""
        self.console.print(f"{state}[bold]{record.role}[/] — {escape(self.label(record))}{escape(tools)}{note}")
        self.speaker = None
        self._refresh()

    def notice(self, text: str) -> None:
        """Print ``text`` (a budget warning, say) above the live area, in yellow."""
        self.console.print(f"[yellow]{escape(text)}[/]")

    def _refresh(self) -> None:
        self.live.update(self._render())

    def _render(self) -> Panel:
        team = Table.grid(padding=(0, 2))
        for role, persona in self.team:
            mark = "[bold green]▶ speaking[/]" if role == self.speaker else ""
            team.add_row(f"[bold]{role}[/]", f"[dim]{persona}[/]", mark)
        tools = "\n".join(escape(t) for t in self.tools[-8:]) or "[dim]no tool calls yet[/]"
        cost = self.meter.total.describe()
        budget = f" of {self.meter.budget.describe()}" if self.meter.budget.describe() != "none" else ""
        return Panel(Group(team, "", f"[bold]{escape(self.turn)}[/]", tools, "", f"usage: {escape(cost)}{escape(budget)}"),
                     title=escape(self.title[:70]), border_style="cyan")


class Observers:
    """Forwards each event to every observer that implements it."""

    def __init__(self, *observers: Any) -> None:
        self.observers = observers

    def __getattr__(self, event: str) -> Any:
        def forward(*args: Any) -> None:
            for observer in self.observers:
                handler = getattr(observer, event, None)
                if handler is not None:
                    handler(*args)

        return forward
