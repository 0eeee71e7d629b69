"""Read-only questions to a code graph: Cypher, symbol search, call graphs, paths, impact.

Every query goes through ``GRAPH.RO_QUERY``, so FalkorDB itself refuses anything that
would write, whatever the text looks like. Traversals (callers, callees, impact,
undirected paths) run breadth-first, one bounded query per level over node ids, so their
cost grows with the answer rather than with the number of paths in the graph.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from caramba.codegraph.facts import CALLS, CONTAINS, DEFINES, IMPORTS, INHERITS, LABELS, REGISTERS
from caramba.codegraph.values import jsonable

if TYPE_CHECKING:  # pragma: no cover - typing only
    from falkordb import Graph

DEFAULT_TIMEOUT_MS = 30_000
_SUMMARY = "labels(n)[0], n.qualname, n.file, n.line, n.key"
_FULLTEXT_UNSAFE = re.compile(r"[^\w*\s]+")
#: Relationships along which a change to a node reaches the nodes that depend on it.
IMPACT_TYPES = (CALLS, INHERITS, IMPORTS, REGISTERS)


class QueryError(ValueError):
    """A query was refused or failed; the message says why and how to fix it."""


class Queries:
    """Read-only queries over one graph."""

    def __init__(self, graph: "Graph", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Query ``graph``; each query may run for ``timeout_ms`` milliseconds."""
        self._graph = graph
        self._timeout = timeout_ms

    def cypher(self, text: str, params: dict[str, Any] | None = None, limit: int = 1000) -> dict[str, Any]:
        """Run read-only Cypher; return ``{"columns", "rows", "truncated"}`` (≤ ``limit`` rows)."""
        if limit < 1:
            raise QueryError(f"limit must be at least 1, got {limit}")
        result = self._ro(text, params)
        columns = [column[1] for column in result.header]
        rows = result.result_set
        return {
            "columns": columns,
            "rows": [jsonable(row) for row in rows[:limit]],
            "truncated": len(rows) > limit,
            "row_count": len(rows),
        }

    def symbols(self, name: str) -> list[dict[str, Any]]:
        """Return the nodes whose qualified name (or key) is exactly ``name``."""
        return self._match_each_label("n.qualname = $name OR n.key = $name", {"name": name})

    def require(self, name: str) -> list[dict[str, Any]]:
        """Like ``symbols``, but an unknown name is an error that suggests close names."""
        found = self.symbols(name)
        if found:
            return found
        tail = name.rpartition(".")[2].rpartition(":")[2]
        suggestions = [item["qualname"] for item in self.find(tail, fulltext=False, limit=10)["symbols"]]
        if not suggestions:
            suggestions = [item["qualname"] for item in self.find(tail, fulltext=True, limit=10)["symbols"]]
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else " Try `codegraph find` to search."
        raise QueryError(f"no symbol with qualified name {name!r} in the graph.{hint}")

    def find(self, name: str, fulltext: bool = False, limit: int = 50) -> dict[str, Any]:
        """Find symbols by exact name/qualified name, or by full-text search with scores."""
        found: list[dict[str, Any]] = []
        if fulltext:
            text = _FULLTEXT_UNSAFE.sub(" ", name).strip()
            if not text:
                raise QueryError(f"nothing to search for in {name!r}; give a word from a name or docstring")
            for label in LABELS:
                rows = self._ro(
                    f"CALL db.idx.fulltext.queryNodes('{label}', $text) YIELD node AS n, score "
                    f"RETURN id(n), {_SUMMARY}, score",
                    {"text": text},
                ).result_set
                found.extend({**_summary(row), "score": row[6]} for row in rows)
            found.sort(key=lambda item: (-item["score"], item["key"]))
        else:
            found = self._match_each_label("n.name = $name OR n.qualname = $name", {"name": name})
        return {"query": name, "fulltext": fulltext, "symbols": found[:limit], "truncated": len(found) > limit}

    def walk(self, start: list[int], types: tuple[str, ...], incoming: bool, depth: int,
             limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Breadth-first from node ids ``start`` along ``types``; return reached nodes.

        Each reached node carries its ``depth`` and the relationship (``via``) that first
        reached it. Returns ``(nodes, truncated)``; the walk stops after ``limit`` nodes.
        """
        if depth < 1:
            raise QueryError(f"depth must be at least 1, got {depth}")
        pattern = f"(t)<-[r:{'|'.join(types)}]-(n)" if incoming else f"(t)-[r:{'|'.join(types)}]->(n)"
        seen = set(start)
        frontier = list(start)
        reached: list[dict[str, Any]] = []
        for level in range(1, depth + 1):
            if not frontier:
                break
            rows = self._ro(
                f"UNWIND $ids AS i MATCH {pattern} WHERE id(t) = i RETURN DISTINCT id(n), {_SUMMARY}, type(r)",
                {"ids": frontier},
            ).result_set
            frontier = []
            for row in sorted(rows, key=lambda r: (r[3] or "", r[4] or 0, r[5] or "", r[6])):
                if row[0] in seen:
                    continue
                seen.add(row[0])
                frontier.append(row[0])
                reached.append({**_summary(row), "depth": level, "via": row[6]})
                if len(reached) >= limit:
                    return reached, True
        return reached, False

    def members(self, start: list[int]) -> list[int]:
        """Return ids of everything defined inside the nodes ``start`` (transitively)."""
        rows = self._ro(
            f"UNWIND $ids AS i MATCH (t)-[:{DEFINES}|{CONTAINS}*1..]->(n) WHERE id(t) = i "
            f"AND NOT n:Module RETURN DISTINCT id(n)",
            {"ids": start},
        ).result_set
        return sorted(row[0] for row in rows)

    def neighbours(self, start: list[int], limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Return every node one edge away from ``start``, with direction and type."""
        rows = self._ro(
            f"UNWIND $ids AS i MATCH (t)-[r]-(n) WHERE id(t) = i "
            f"RETURN DISTINCT id(n), {_SUMMARY}, type(r), id(startNode(r)) = i",
            {"ids": start},
        ).result_set
        rows.sort(key=lambda r: (r[6], not r[7], r[5] or ""))
        found = [{**_summary(row), "type": row[6], "direction": "out" if row[7] else "in"} for row in rows]
        return found[:limit], len(found) > limit

    def shortest_path(self, source: int, target: int, max_hops: int) -> list[dict[str, Any]] | None:
        """Return the nodes and edge types of a shortest directed path, or None."""
        rows = self._ro(
            f"MATCH (a), (b) WHERE id(a) = $a AND id(b) = $b "
            f"WITH shortestPath((a)-[*..{int(max_hops)}]->(b)) AS p WHERE p IS NOT NULL "
            f"RETURN [n IN nodes(p) | [id(n), labels(n)[0], n.qualname, n.file, n.line, n.key]], "
            f"[r IN relationships(p) | type(r)]",
            {"a": source, "b": target},
        ).result_set
        if not rows:
            return None
        nodes, types = rows[0]
        steps = [_summary(node) for node in nodes]
        for step, kind in zip(steps[1:], types):
            step["via"] = kind
        return steps

    def _match_each_label(self, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Summaries of the nodes of every label matching ``where``, sorted by key.

        One query per label, so each can use that label's range indexes.
        """
        found: list[dict[str, Any]] = []
        for label in LABELS:
            rows = self._ro(f"MATCH (n:{label}) WHERE {where} RETURN id(n), {_SUMMARY}", params).result_set
            found.extend(_summary(row) for row in rows)
        return sorted(found, key=lambda item: item["key"])

    def _ro(self, text: str, params: dict[str, Any] | None = None) -> Any:
        import redis

        try:
            return self._graph.ro_query(text, params, timeout=self._timeout)
        except redis.ResponseError as error:
            message = str(error)
            if "read-only" in message:
                raise QueryError(
                    f"refused: the query writes to the graph, and code-graph queries are read-only "
                    f"(FalkorDB GRAPH.RO_QUERY said: {message}). Change the graph with codegraph-sync."
                ) from error
            raise QueryError(f"FalkorDB rejected the query: {message}") from error


def _summary(row: list[Any]) -> dict[str, Any]:
    """Turn ``[id, label, qualname, file, line, key, …]`` into a symbol summary."""
    return {"id": row[0], "label": row[1], "qualname": row[2], "file": row[3], "line": row[4], "key": row[5]}

