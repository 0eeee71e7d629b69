"""What the full and the incremental write path hand back to the sync: counts and records.

Both paths (``caramba.codegraph.fullsync`` and ``caramba.codegraph.incremental``) end the
same way: the sync writes their per-file records, reverse dependencies and symbol-table
entries into the sync index in one transaction (``SyncIndex.write``) and reports their
counts. ``Outcome`` is that hand-over.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from caramba.codegraph.apply import Written


@dataclass(slots=True)
class Outcome:
    """The result of writing one sync's changes to the graph."""

    written: Written
    #: Unchanged files whose links were re-aggregated because an answer changed.
    relinked: int = 0
    #: Unchanged files whose affected questions were re-answered.
    dependents: int = 0
    #: part (``symbols``, ``refs``, ``links``, ``answers``) -> path -> record.
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``rdeps`` entries to replace (an empty list deletes one).
    rdeps: dict[str, list[str]] = field(default_factory=dict)
    #: Symbol-table entries to replace, per map (None deletes one).
    table: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: A full sync's index definitions, still running (join before waiting for the builds).
    indexing: "Future[int] | None" = None
