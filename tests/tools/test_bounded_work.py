"""Bounded work at run time: a dry run of a model too large to plan (``repeat: 10**18``
in a workspace whose validation limits were raised) ends with a clear error naming the
bound, and the server neither grows nor stops answering (issue #13: the MCP server grew
to 1.5 GB planning it, until killed)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from caramba.tools.generate import Description, from_description
from tests.tools.conftest import call, inprocess, make_workspace, tiny_manifest

pytestmark = pytest.mark.anyio

RAISED = ("limits:\n  max_repeat: 1000000000000000000\n  max_layers: 100000000000000000000\n  max_params: 1.0e+30\n"
          "  max_activation_bytes: 1.0e+40\nmcp:\n  dry_run_timeout_s: 6\n  dry_run_memory_mb: 256\n")


async def test_a_dry_run_too_large_to_plan_is_stopped_by_its_bound(tmp_path: Path) -> None:
    huge = from_description(Description(name="huge", d_model=32, n_heads=2, n_layers=10**18, d_ff=64, block_size=32,
                                        batch_size=4, steps=20, device="cpu", seeds=[0], benchmarks=[]), [])
    async with inprocess(make_workspace(tmp_path / "ws", RAISED)) as client:
        assert (await call(client, "validate_manifest", manifest=huge))["ok"]  # the workspace allows it at validation
        await call(client, "dry_run_manifest", manifest=tiny_manifest())  # warm: the planner's imports are loaded once
        server = psutil.Process()
        before = server.memory_info().rss
        result = await client.call_tool("dry_run_manifest", {"manifest": huge})
        text = result.content[0].text
        assert result.is_error and ("mcp.dry_run_memory_mb" in text or "mcp.dry_run_timeout_s" in text), text
        assert "hint:" in text
        assert server.memory_info().rss - before < 64 * 2**20
        plan = await call(client, "dry_run_manifest", manifest=tiny_manifest())  # the server still answers
        assert plan["targets"][0]["params_total"] > 0
