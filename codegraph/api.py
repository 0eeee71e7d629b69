"""``CodeGraph``: the one Python API over the code graph, shared by the CLI and MCP tools.

Every method returns JSON-serialisable dicts, so an MCP tool can hand the answer straight
back to an agent. Symbols are named by qualified name (``pkg.mod.Class.method``) or by
node key (``path/to/file.py:Class.method``); an unknown name is a ``QueryError`` that
suggests close matches.

    with CodeGraph(db=".caramba/codegraph.db", graph="caramba-main") as code:
        code.sync(Path("."))
        code.callers("caramba.codegraph.sync.Sync.run", depth=2)

Defaults: the database is ``<workspace>/.caramba/codegraph.db`` (the workspace being the
current directory unless given) and the graph is named after the repository directory
and its git branch.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from caramba.codegraph.database import Database, default_db_path, is_url
from caramba.codegraph.naming import default_graph_name
from caramba.codegraph.queries import DEFAULT_TIMEOUT_MS, IMPACT_TYPES, Queries, QueryError
from caramba.codegraph.report import Progress

CALL_TYPES = ("CALLS",)


#: Memory one query may use in an embedded database (FalkorDB's QUERY_MEM_CAPACITY): a read
#: such as ``UNWIND range(1, 3e9)`` fails with an error instead of exhausting the server.
QUERY_MEMORY_BYTES = 1 << 30


class CodeGraph:
    """A code graph in a FalkorDB database; opens the database on first use."""

    def __init__(
        self,
        db: str | Path | None = None,
        graph: str | None = None,
        workspace: Path | None = None,
        repo: Path | None = None,
        query_timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> None:
        """Address graph ``graph`` (default: from ``repo``) in database ``db``.

        ``db`` is a database file or a ``redis://``/``falkor://`` URL; by default the
        file ``<workspace>/.caramba/codegraph.db``. ``repo`` (default: the workspace)
        names the default graph. Every query runs under ``query_timeout_ms``, enforced
        by FalkorDB itself (the query's ``TIMEOUT``; for an embedded database also the
        server-wide ``TIMEOUT_MAX``, so no read can outlive it).
        """
        self.query_timeout_ms = query_timeout_ms
        base = (workspace or Path.cwd()).resolve()
        self.location: str | Path = db if db is not None and is_url(db) else Path(db or default_db_path(base))
        self.graph_name = graph or default_graph_name(repo or base)
        self._db: Database | None = None

    def __enter__(self) -> "CodeGraph":
        """Use as a context manager; the database is closed on exit."""
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        """Close the database."""
        self.close()

    @property
    def database(self) -> Database:
        """The open database (opened now if needed)."""
        if self._db is None:
            self._db = Database.open(self.location)
            if self._db.embedded:  # our own server: cap every query's run time in the database itself
                self._db.raw.execute_command("GRAPH.CONFIG", "SET", "TIMEOUT_MAX", self.query_timeout_ms)
                self._db.raw.execute_command("GRAPH.CONFIG", "SET", "TIMEOUT_DEFAULT", self.query_timeout_ms)
                self._db.raw.execute_command("GRAPH.CONFIG", "SET", "QUERY_MEM_CAPACITY", QUERY_MEMORY_BYTES)
        return self._db

    def close(self) -> None:
        """Close this process's connection (an embedded server stops with its last client)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def sync(self, path: Path, reset: bool = False, workers: int = 2, progress: Progress | None = None) -> dict[str, Any]:
        """Sync the repository at ``path`` into the graph; return the sync report."""
        from caramba.codegraph.sync import Sync

        return Sync(self.database, self.graph_name, workers=workers, progress=progress).run(path, reset).as_dict()

    def query(self, cypher: str, params: dict[str, Any] | None = None, limit: int = 1000) -> dict[str, Any]:
        """Run read-only Cypher; ``{"columns", "rows", "truncated", "row_count"}``."""
        return self._queries().cypher(cypher, params, limit)

    def find_symbol(self, name: str, fulltext: bool = False, limit: int = 50) -> dict[str, Any]:
        """Find symbols named ``name`` (exact name or qualname), or by full-text search."""
        return self._queries().find(name, fulltext, limit)

    def callers(self, qualname: str, depth: int = 1, limit: int = 500) -> dict[str, Any]:
        """Return what calls ``qualname``, directly (depth 1) or through ``depth`` calls."""
        return self._walk("callers", qualname, CALL_TYPES, True, depth, limit)

    def callees(self, qualname: str, depth: int = 1, limit: int = 500) -> dict[str, Any]:
        """Return what ``qualname`` calls, directly or through ``depth`` calls."""
        return self._walk("callees", qualname, CALL_TYPES, False, depth, limit)

    def neighbours(self, qualname: str, limit: int = 500) -> dict[str, Any]:
        """Return every node one edge from ``qualname``, with the edge type and direction."""
        queries = self._queries()
        symbols = queries.require(qualname)
        found, truncated = queries.neighbours([item["id"] for item in symbols], limit)
        return {"symbol": symbols, "neighbours": found, "truncated": truncated}

    def shortest_path(self, source: str, target: str, max_hops: int = 10) -> dict[str, Any]:
        """Return a shortest directed path from ``source`` to ``target`` (or ``None``)."""
        if max_hops < 1:
            raise QueryError(f"max_hops must be at least 1, got {max_hops}")
        queries = self._queries()
        starts, ends = queries.require(source), queries.require(target)
        best: list[dict[str, Any]] | None = None
        for start in starts:
            for end in ends:
                steps = queries.shortest_path(start["id"], end["id"], max_hops)
                if steps is not None and (best is None or len(steps) < len(best)):
                    best = steps
        return {"source": source, "target": target, "path": best, "hops": None if best is None else len(best) - 1}

    def impact(self, qualname: str, depth: int = 3, limit: int = 1000) -> dict[str, Any]:
        """Return what depends on ``qualname``, transitively up to ``depth`` steps.

        A symbol's dependents are whatever calls, subclasses, imports or registers it or
        anything defined inside it (a class's methods, a module's functions).
        """
        queries = self._queries()
        symbols = queries.require(qualname)
        start = [item["id"] for item in symbols]
        inside = queries.members(start)
        found, truncated = queries.walk(sorted({*start, *inside}), IMPACT_TYPES, True, depth, limit)
        return {"symbol": symbols, "depth": depth, "members": len(inside), "dependents": found, "truncated": truncated}

    def _walk(self, name: str, qualname: str, types: tuple[str, ...], incoming: bool, depth: int,
              limit: int) -> dict[str, Any]:
        queries = self._queries()
        symbols = queries.require(qualname)
        found, truncated = queries.walk([item["id"] for item in symbols], types, incoming, depth, limit)
        return {"symbol": symbols, "depth": depth, name: found, "truncated": truncated}

    def _queries(self) -> Queries:
        database = self.database
        if not database.graph_exists(self.graph_name):
            graphs = ", ".join(database.list_graphs()) or "none"
            raise QueryError(
                f"graph {self.graph_name!r} does not exist in {database.location} (graphs there: {graphs}); "
                "run `caramba codegraph-sync` first or pass --graph"
            )
        return Queries(database.graph(self.graph_name), self.query_timeout_ms)
