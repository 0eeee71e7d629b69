"""Queries are read-only by the database's own rule (GRAPH.RO_QUERY), with a row limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.codegraph.api import CodeGraph
from caramba.codegraph.queries import QueryError


def test_write_through_the_read_only_path_is_refused(code: CodeGraph, repo: Path) -> None:
    code.sync(repo)
    before = code.query("MATCH (n) RETURN count(n)")["rows"]
    for cypher in ("CREATE (n:Module {qualname: 'evil'})", "MATCH (n) DETACH DELETE n",
                   "MATCH (n:Module) SET n.name = 'x'", "MERGE (n:Class {key: 'k'})"):
        with pytest.raises(QueryError, match="read-only"):
            code.query(cypher)
    assert code.query("MATCH (n) RETURN count(n)")["rows"] == before


def test_row_limit_truncates_and_says_so(code: CodeGraph, repo: Path) -> None:
    code.sync(repo)
    result = code.query("MATCH (n) RETURN n.key ORDER BY n.key", limit=3)
    assert result["columns"] == ["n.key"]
    assert len(result["rows"]) == 3 and result["truncated"] and result["row_count"] == 21
    assert not code.query("MATCH (n) RETURN n.key", limit=21)["truncated"]


def test_bad_cypher_and_missing_graph_are_explained(code: CodeGraph, repo: Path, db_file: Path) -> None:
    with pytest.raises(QueryError, match="does not exist"):
        code.query("MATCH (n) RETURN n")
    code.sync(repo)
    with pytest.raises(QueryError, match="rejected"):
        code.query("MATCH (n RETURN n")
    with pytest.raises(QueryError, match="Did you mean: pkg.shapes.make_circle"):
        code.callers("pkg.make_circle")
