"""Synchronise a repository into its code graph: full the first time, incremental after.

The sync is a thin orchestrator over the objects it owns:

1. ``discover`` lists the Python files and ``plan`` compares them with the sync index
   (content hashes) to find added, changed and deleted files;
2. ``parse`` turns the added and changed files into ``FileFacts`` (in worker processes);
3. ``fullsync`` (everything, in memory, bulk-loaded) or ``incremental`` (only what the
   change can affect, against the stored symbol table) resolves and writes the graph;
4. ``SyncIndex`` records the new state in one transaction;
5. the embedded database file is saved (skipped when nothing changed).

A full sync happens when asked (``reset``), on the first sync, and when the index cannot
be trusted (another schema or Python version, another root or package prefix); the
report's ``reason`` says which.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from caramba.codegraph.apply import Written
from caramba.codegraph.database import Database
from caramba.codegraph.discover import python_files
from caramba.codegraph.facts import FileFacts
from caramba.codegraph.fullsync import full_sync
from caramba.codegraph.incremental import incremental_sync
from caramba.codegraph.index import SCHEMA_VERSION, SyncIndex, python_version
from caramba.codegraph.naming import package_prefix
from caramba.codegraph.outcome import Outcome
from caramba.codegraph.parse import gc_paused, parse_all
from caramba.codegraph.plan import Plan, make_plan
from caramba.codegraph.report import Progress, SyncReport
from caramba.codegraph.schema import wait_until_operational

if TYPE_CHECKING:  # pragma: no cover - typing only
    from falkordb import Graph

LOCK_SECONDS = 3600


class SyncError(RuntimeError):
    """A sync could not run; the message says why and what to do."""


class Sync:
    """Synchronises repositories into one graph of one database."""

    def __init__(self, database: Database, graph: str, workers: int = 2, progress: Progress | None = None) -> None:
        """Sync into graph ``graph`` of ``database``, parsing with ``workers`` processes."""
        self._db = database
        self._name = graph
        self._workers = workers
        self._progress = progress

    def run(self, root: Path, reset: bool = False) -> SyncReport:
        """Bring the graph up to date with the Python files under ``root``."""
        root = root.expanduser().resolve()
        if not root.is_dir():
            raise SyncError(f"{root} is not a directory; pass the repository to sync as PATH")
        lock = f"codegraph:{self._name}:lock"
        token = uuid.uuid4().hex
        if not self._db.raw.set(lock, token, nx=True, ex=LOCK_SECONDS):
            raise SyncError(
                f"another sync of graph {self._name!r} is running; wait for it to finish "
                f"(or delete the Redis key {lock!r} if that process died)"
            )
        try:
            with gc_paused():  # millions of short-lived acyclic records: collector passes only cost
                return self._run(root, reset)
        finally:
            if self._db.raw.get(lock) == token.encode():
                self._db.raw.delete(lock)

    def _run(self, root: Path, reset: bool) -> SyncReport:
        started = time.perf_counter()
        stages: dict[str, float] = {}
        clock = [started]

        def lap(stage: str) -> None:
            now = time.perf_counter()
            stages[stage] = round(now - clock[0], 4)
            clock[0] = now

        graph = self._db.graph(self._name)
        index = SyncIndex(self._db.raw, self._name)
        prefix = package_prefix(root)
        meta = {"schema": SCHEMA_VERSION, "python": python_version(), "root": str(root), "prefix": prefix}
        exists = self._db.graph_exists(self._name)
        reason = _full_reason(reset, index.meta(), meta, exists)
        report = SyncReport(self._name, self._db.location, str(root), bool(reason), reason)
        report.notes.extend(self._db.notes)
        paths = python_files(root)
        if report.full:
            if exists:
                graph.delete()
            index.clear()
        indexed = {} if report.full else index.files()
        plan = make_plan(root, paths, indexed)
        lap("discover")

        facts = parse_all(str(root), plan.parse, prefix, self._workers, self._parse_progress(len(plan.parse)),
                          blobs=report.full)
        lap("parse")

        if not plan.changed and not report.full:  # nothing to resolve or write but size/mtime records
            if plan.restat:
                index.write(meta, {"files": dict(plan.restat)}, [], {}, {})
            return self._finish(report, graph, stages, started, plan, paths, facts, indexed, None, save=False)
        if report.full:
            outcome = full_sync(self._db.raw, self._name, graph, facts, lap)
        else:
            outcome = incremental_sync(self._db.raw, self._name, graph, index, plan, facts, indexed, lap)
        files = {item.path: (item.digest, item.size, item.mtime_ns, item.module, item.error) for item in facts}
        files.update(plan.restat)
        removed = [*plan.deleted, *(item.path for item in facts if item.error)]
        index.write(meta, {"files": files, **outcome.records}, removed, outcome.rdeps, outcome.table)
        if outcome.indexing is not None:
            outcome.indexing.result()
        if report.full:
            wait_until_operational(graph)
        return self._finish(report, graph, stages, started, plan, paths, facts, indexed, outcome)

    def _finish(self, report: SyncReport, graph: "Graph", stages: dict[str, float], started: float, plan: Plan,
                paths: list[str], facts: list[FileFacts], indexed: dict, outcome: Outcome | None,
                save: bool = True) -> SyncReport:
        """Save the database (when anything was written) and fill in the report."""
        stages["index"] = round(time.perf_counter() - started - sum(stages.values()), 4)
        report.sync_seconds = round(time.perf_counter() - started, 4)
        saving = time.perf_counter()
        if save:
            self._db.save()
        report.save_seconds = round(time.perf_counter() - saving, 4)
        report.stages = stages
        report.files = len(paths)
        report.parsed = len(plan.parse)
        report.deleted = len(plan.deleted)
        report.relinked = outcome.relinked if outcome is not None else 0
        report.dependents = outcome.dependents if outcome is not None else 0
        written = outcome.written if outcome is not None else Written()
        report.written = {"nodes": written.nodes, "edges_created": written.edges_created,
                          "edges_deleted": written.edges_deleted, "properties_set": written.properties_set}
        report.skipped = sorted(
            [(item.path, item.error) for item in facts if item.error]
            + [(path, record[4]) for path, record in indexed.items() if record[4] and path in plan.unchanged]
        )
        report.nodes, report.edges = _totals(graph)
        return report

    def _parse_progress(self, total: int) -> Callable[[int], None] | None:
        """Adapt the sync's progress callback to ``parse_all``'s per-file counter."""
        progress = self._progress
        if progress is None:
            return None
        done = [0]
        progress("parse", 0, total)

        def advance(count: int) -> None:
            done[0] += count
            progress("parse", done[0], total)

        return advance

    def _report(self, stage: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(stage, done, total)


def _full_reason(reset: bool, stored: dict[str, str], meta: dict[str, str], exists: bool) -> str:
    """Return why this sync must rebuild the graph from scratch ('' when it need not)."""
    if reset:
        return "--reset"
    if not stored:
        return "first sync of this graph" if not exists else "the graph has no sync index"
    if not exists:
        return "the graph was deleted"
    for key in ("schema", "python", "root", "prefix"):
        if stored.get(key) != meta[key]:
            return f"{key} changed ({stored.get(key)!r} → {meta[key]!r})"
    return ""


def _totals(graph: "Graph") -> tuple[int, int]:
    """Return the graph's node and edge counts."""
    nodes = graph.ro_query("MATCH (n) RETURN count(n)").result_set[0][0]
    edges = graph.ro_query("MATCH ()-[r]->() RETURN count(r)").result_set[0][0]
    return int(nodes), int(edges)
