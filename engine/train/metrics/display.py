"""The live console view of a training run: step, loss, tokens/s and ETA.

``instrument: rich`` draws a progress bar that updates in place (rich ``Progress``);
``plain`` prints one line at most every few seconds (logs, CI, non-terminals). Both are
fed from the trainer's metric flushes, never per step, so the display costs no device
synchronisation.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

PLAIN_INTERVAL_S = 5.0


class Display:
    """Progress of one run from ``start_step`` to ``total`` steps."""

    def __init__(self, instrument: str, console: Console, total: int, start_step: int, label: str) -> None:
        self.instrument, self.console, self.total, self.label = instrument, console, total, label
        self._last_print = 0.0
        self._progress: Progress | None = None
        if instrument == "rich":
            self._progress = Progress(
                TextColumn(f"[bold]{label}[/]"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss [cyan]{task.fields[loss]}[/]"), TextColumn("[green]{task.fields[tps]}[/] tok/s"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)
            self._task = self._progress.add_task(label, total=total, completed=start_step, loss="—", tps="—")
            self._progress.start()

    def update(self, step: int, loss: float | None, tokens_per_s: float | None) -> None:
        """Show the state after ``step`` completed steps."""
        loss_text = f"{loss:.4f}" if loss is not None else "—"
        tps_text = f"{tokens_per_s:,.0f}" if tokens_per_s is not None else "—"
        if self._progress is not None:
            self._progress.update(self._task, completed=step, loss=loss_text, tps=tps_text)
            return
        now = time.monotonic()
        if now - self._last_print >= PLAIN_INTERVAL_S or step >= self.total:
            self._last_print = now
            self.console.print(f"{self.label} step {step}/{self.total} loss {loss_text} {tps_text} tok/s")

    def stop(self) -> None:
        """Leave the final state on screen."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
