"""What a sync reports: counts, timings and skipped files, as JSON-ready data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

#: Progress callback: ``(stage, done, total)``; stages are "parse", "resolve", "write".
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class SyncReport:
    """The summary of one sync.

    ``files`` counts the repository's Python files; ``parsed`` those read and parsed this
    time (all of them on a full sync), ``deleted`` those gone since the last sync and
    ``dependents`` the unchanged files whose answers a change could affect (their affected
    questions were re-answered) and ``relinked`` those whose links changed and were
    re-aggregated. ``nodes`` and
    ``edges`` are the graph's totals afterwards; ``written`` what this sync wrote.
    ``skipped`` lists every file currently left out, with the reason. ``sync_seconds``
    is the sync itself and ``save_seconds`` the write of the database file after it.
    """

    graph: str
    database: str
    root: str
    full: bool
    reason: str
    files: int = 0
    parsed: int = 0
    deleted: int = 0
    dependents: int = 0
    relinked: int = 0
    nodes: int = 0
    edges: int = 0
    written: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    sync_seconds: float = 0.0
    save_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Return the report as a JSON-serialisable dict."""
        data = asdict(self)
        data["skipped"] = [{"file": path, "reason": reason} for path, reason in self.skipped]
        return data
