"""The bulk loader creates exactly what it was given, however the load is split into calls.

A full sync of a large repository spans several ``GRAPH.BULK`` calls (each at most
``CALL_BYTES``); a tiny call size here forces a split inside every label and edge type,
and the graph must still hold every node with its properties and every edge between the
right ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.codegraph.api import CodeGraph
from caramba.codegraph.bulk import BulkLoader

from .helpers import dump


@pytest.mark.parametrize("call_bytes", [64, 1 << 20])
def test_bulk_load_split_into_calls_keeps_everything(db_file: Path, call_bytes: int) -> None:
    with CodeGraph(db=db_file, graph="bulk") as code:
        loader = BulkLoader(code.database.raw, "bulk", call_bytes=call_bytes)
        a = loader.add_nodes("A", ("key", "n", "tags"), [[f"a{i}", i, [f"t{i}", "x"]] for i in range(300)])
        b = loader.add_nodes("B", ("key",), [[f"b{i}"] for i in range(200)])
        loader.add_edges("E", ("line", "name"), [[a[i], b[i % 200], i, f"e{i}"] for i in range(300)])
        loader.add_edges("F", (), [[b[i], a[i]] for i in range(200)])
        loader.finish()
        assert (loader.nodes, loader.edges) == (500, 500)
        rows = code.query("MATCH (x:A) RETURN x.key, x.n, x.tags ORDER BY x.n", limit=1000)["rows"]
        assert rows == [[f"a{i}", i, [f"t{i}", "x"]] for i in range(300)]
        edges = code.query("MATCH (x:A)-[e:E]->(y:B) RETURN x.key, y.key, e.line, e.name ORDER BY e.line",
                           limit=1000)["rows"]
        assert edges == [[f"a{i}", f"b{i % 200}", i, f"e{i}"] for i in range(300)]
        back = code.query("MATCH (y:B)-[:F]->(x:A) RETURN y.key, x.key ORDER BY x.key", limit=1000)["rows"]
        assert sorted(back) == sorted([f"b{i}", f"a{i}"] for i in range(200))


def test_full_sync_of_a_repository_split_into_calls_equals_one_call(
        db_file: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with CodeGraph(db=db_file, graph="whole") as whole:
        whole.sync(repo, reset=True)
        expected = dump(whole)
    monkeypatch.setattr("caramba.codegraph.bulk.CALL_BYTES", 256)
    with CodeGraph(db=db_file, graph="split") as split:
        split.sync(repo, reset=True)
        assert dump(split) == expected
