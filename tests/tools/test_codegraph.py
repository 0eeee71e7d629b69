"""The code-graph tools answer from a real embedded graph of a small package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.conftest import call, inprocess

pytestmark = pytest.mark.anyio


async def test_sync_then_ask(workspace: Path) -> None:
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "__init__.py").write_text("")
    (workspace / "pkg" / "m.py").write_text("def a():\n    return b()\n\n\ndef b():\n    return 1\n")
    async with inprocess(workspace) as client:
        report = await call(client, "codegraph_sync", path="pkg")
        assert report["files"] == 2
        callers = await call(client, "callers", qualname="pkg.m.b")
        assert [c["qualname"] for c in callers["callers"]] == ["pkg.m.a"]
        assert (await call(client, "callees", qualname="pkg.m.a"))["callees"][0]["qualname"] == "pkg.m.b"
        assert (await call(client, "shortest_path", source="pkg.m.a", target="pkg.m.b"))["hops"] == 1
        assert (await call(client, "find_symbol", name="b"))
        assert "pkg.m.a" in str(await call(client, "impact", qualname="pkg.m.b"))
        rows = await call(client, "codegraph_query", cypher="MATCH (f:Function) RETURN f.qualname ORDER BY f.qualname")
        assert rows["rows"] == [["pkg.m.a"], ["pkg.m.b"]]
        unknown = await client.call_tool("callers", {"qualname": "pkg.m.zz"})
        assert unknown.is_error and "no symbol" in unknown.content[0].text
        outside = await client.call_tool("codegraph_sync", {"path": ".."})
        assert outside.is_error and "outside the workspace" in outside.content[0].text


async def test_symlinks_out_and_slow_queries_are_refused(tmp_path: Path) -> None:
    from tests.tools.conftest import make_workspace

    workspace = make_workspace(tmp_path / "ws", "graph:\n  query_timeout_s: 1\n")
    secret = tmp_path / "secret.py"
    secret.write_text("def leaked_secret():\n    return 'outside'\n")
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "m.py").write_text("def a():\n    return 1\n")
    (workspace / "pkg" / "link.py").symlink_to(secret)  # a planted link out of the workspace
    async with inprocess(workspace) as client:
        assert (await call(client, "codegraph_sync", path="pkg"))["files"] == 1
        found = await call(client, "codegraph_query", cypher="MATCH (f:Function) RETURN f.qualname")
        assert found["rows"] == [["m.a"]]  # no __init__.py: the folder is not a package
        import time

        started = time.perf_counter()
        slow = await client.call_tool("codegraph_query", {"cypher": "UNWIND range(1, 100000) AS x UNWIND range(1, 100000) "
                                                                      "AS y RETURN count(*)"})
        assert slow.is_error and "timed out" in slow.content[0].text.lower(), slow.content
        assert time.perf_counter() - started < 10  # stopped by the database at its 1 s timeout
        assert (await call(client, "find_symbol", name="a"))  # the graph lock was released
