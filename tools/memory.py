"""Knowledge-memory tools: search what earlier runs and sessions found before proposing anything.

Each tool hands off to one :class:`caramba.memory.api.Memory` method (the CLI's API, on the
same stores) and returns its JSON answer: hits carry their source (run id, session and
turn, note) so an agent can cite them, and facts carry ``valid_at``/``invalid_at`` so it
can tell a current finding from a superseded one. The memory opens on first use and
closes at exit; calls are serialised by one lock. Graph reads are read-only queries.
"""

from __future__ import annotations

import atexit
import threading
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from caramba.tools.security import Workspace

AsOf = Annotated[str | None, Field(description="ISO time: only what held then (e.g. 2026-11-28T09:00:00+00:00); null: now")]


def register(server: MCPServer, ws: Workspace) -> None:
    """Add the ``memory_*`` tools to ``server``."""
    from caramba.codegraph.database import DatabaseError
    from caramba.memory.errors import MemoryUnavailable

    lock = threading.Lock()
    holder: dict[str, Any] = {}

    def memory() -> Any:  # caramba.memory.api.Memory, imported on first use (it loads Graphiti)
        if "memory" not in holder:
            from caramba.memory.api import Memory

            holder["memory"] = Memory(ws.root, ws.config)
        return holder["memory"]

    def close() -> None:
        with lock:
            if "memory" in holder:
                holder.pop("memory").close()

    atexit.register(close)

    def ask(method: str, *args: Any) -> dict[str, Any]:
        with lock:
            try:
                return getattr(memory(), method)(*args)
            except (MemoryUnavailable, DatabaseError, ValueError) as exc:
                raise ToolError(str(exc)) from None

    @server.tool()
    def memory_search(query: Annotated[str, Field(description="a question or keywords")],
                      k: Annotated[int, Field(ge=1, le=50, description="how many results")] = 5,
                      mode: Annotated[str, Field(description="hybrid (default), bm25 or vector")] = "hybrid",
                      as_of: AsOf = None) -> dict[str, Any]:
        """Search the research memory (run reports with metrics, findings, discussion turns, notes):
        hybrid BM25 + vector, reranked. Each hit has its source (run id / session and turn) to cite.
        Consult it before proposing an experiment: it may already have been run."""
        return ask("search", query, k, mode, as_of)

    @server.tool()
    def memory_facts(entity: Annotated[str, Field(description="run id, experiment, arm (experiment/arm), class, metric")],
                     as_of: AsOf = None) -> dict[str, Any]:
        """Facts about one entity from the memory graph, each with valid_at / invalid_at."""
        return ask("facts", entity, as_of)

    @server.tool()
    def memory_timeline(experiment: Annotated[str | None, Field(description="one experiment, or null for all")] = None,
                        ) -> dict[str, Any]:
        """Findings over time: which arm led each experiment on each metric, and when a newer run superseded it."""
        return ask("timeline", experiment)

    @server.tool()
    def memory_add_note(text: Annotated[str, Field(description="what to remember (a conclusion, an observation)")],
                        title: Annotated[str, Field(description="a short title")] = "") -> dict[str, Any]:
        """Remember a note so later sessions can find it with memory_search."""
        return ask("add_note", text, title)

    @server.tool()
    def memory_related_runs(component: Annotated[str, Field(description="a class or manifest type, e.g. DecoupledAttention")],
                            ) -> dict[str, Any]:
        """Runs that used a component (resolved through the code graph), with their metrics."""
        return ask("related_runs", component)
