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
