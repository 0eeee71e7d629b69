"""Code-graph tools: ask the graph of the codebase (functions, classes, modules and their
calls, imports, subclasses, registrations) instead of reading files.

Each tool hands off to one :class:`caramba.codegraph.api.CodeGraph` method and returns
its JSON answer. The graph lives in the workspace's database (``graph.db`` of
``caramba.yml``, default ``.caramba/codegraph.db``); ``codegraph_sync`` (re)builds it
incrementally from a folder inside the workspace.
"""

from __future__ import annotations

import atexit
import threading

import redis
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from caramba.codegraph.api import CodeGraph
from caramba.codegraph.queries import QueryError
from caramba.tools.security import Workspace

Symbol = Annotated[str, Field(description="qualified name (pkg.mod.Class.method) or node key (path/file.py:Class.method)")]
Depth = Annotated[int, Field(ge=1, le=10, description="how many call steps to follow")]
Limit = Annotated[int, Field(ge=1, le=5000, description="most results returned (the answer says when truncated)")]


def register(server: MCPServer, ws: Workspace) -> None:
    """Add the code-graph tools to ``server`` (one graph handle, used under a lock, closed at exit)."""
    timeout_s = ws.config.graph.query_timeout_s
    code = CodeGraph(db=ws.config.graph.db, workspace=ws.root, query_timeout_ms=int(timeout_s * 1000))
    lock = threading.Lock()

    def close() -> None:
        with lock:
            code.close()  # stops the embedded database server this process started

    atexit.register(close)

    def ask(method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # A query holds the lock at most its database timeout; a caller never waits forever behind one.
        if not lock.acquire(timeout=timeout_s + 5 if method != "sync" else -1):
            raise ToolError(f"the code graph is busy with another query (each may run {timeout_s:g} s, graph.query_timeout_s "
                            "in caramba.yml); try again in a moment")
        try:
            return getattr(code, method)(*args, **kwargs)
        except QueryError as exc:
            raise ToolError(str(exc)) from None
        except redis.ResponseError as exc:
            raise ToolError(f"FalkorDB refused the request: {exc}\nhint: a query that times out is stopped by the database "
                            f"after graph.query_timeout_s={timeout_s:g} s; add a LIMIT or a narrower MATCH") from None
        finally:
            lock.release()

    @server.tool()
    def codegraph_query(cypher: Annotated[str, Field(description="read-only Cypher, e.g. MATCH (f:Function) RETURN f.qualname LIMIT 5")],
                        limit: Limit = 1000) -> dict[str, Any]:
        """Run a read-only Cypher query on the code graph; returns columns and rows. Use it
        for questions the other code-graph tools do not answer directly."""
        return ask("query", cypher, None, limit)

    @server.tool()
    def find_symbol(name: Annotated[str, Field(description="a name, qualified name, or words to search for")],
                    fulltext: Annotated[bool, Field(description="search names and docstrings by words instead of exact name")] = False,
                    limit: Limit = 50) -> dict[str, Any]:
        """Find functions, classes and modules by name (or by full-text search over names and
        docstrings); returns their qualified names, files and lines. Start here to locate code."""
        return ask("find_symbol", name, fulltext, limit)

    @server.tool()
    def callers(qualname: Symbol, depth: Depth = 1, limit: Limit = 500) -> dict[str, Any]:
        """What calls this function or method, directly (depth 1) or through several calls."""
        return ask("callers", qualname, depth, limit)

    @server.tool()
    def callees(qualname: Symbol, depth: Depth = 1, limit: Limit = 500) -> dict[str, Any]:
        """What this function or method calls, directly (depth 1) or through several calls."""
        return ask("callees", qualname, depth, limit)

    @server.tool()
    def neighbours(qualname: Symbol, limit: Limit = 500) -> dict[str, Any]:
        """Every node one edge away from a symbol (calls, imports, definitions, subclasses,
        registrations), with the edge type and direction: a symbol's immediate context."""
        return ask("neighbours", qualname, limit)

    @server.tool()
    def shortest_path(source: Symbol, target: Symbol,
                      max_hops: Annotated[int, Field(ge=1, le=20, description="longest path searched")] = 10) -> dict[str, Any]:
        """A shortest directed path from one symbol to another (how does A reach B?), or null."""
        return ask("shortest_path", source, target, max_hops)

    @server.tool()
    def impact(qualname: Symbol, depth: Annotated[int, Field(ge=1, le=10, description="dependency steps followed")] = 3,
               limit: Limit = 1000) -> dict[str, Any]:
        """What depends on a symbol (callers, subclasses, importers, registrations, transitively):
        what might break if it changes. Use it before editing shared code."""
        return ask("impact", qualname, depth, limit)

    @server.tool()
    def codegraph_sync(path: Annotated[str, Field(description="folder inside the workspace to index")] = ".",
                       reset: Annotated[bool, Field(description="rebuild from scratch instead of incrementally")] = False,
                       ) -> dict[str, Any]:
        """Build or update the code graph from the Python files under a workspace folder
        (incremental: only changed files are re-read). Returns what was added and removed."""
        return ask("sync", ws.path(path, "folder"), reset)
