"""The other ways in: the MCP paper tools (a paper in its own process, the server answering
meanwhile) and a ``type: paper_write`` process target in a manifest."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from tests.processes.paper_write.conftest import E2E_SCRIPT
from tests.tools.conftest import call, stdio_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_mcp_starts_a_paper_follows_it_and_fetches_its_files(comparison: Path) -> None:
    async with stdio_client(comparison) as client:
        refused = await client.call_tool("paper_start", {"manifest": "../outside.yml"})
        assert refused.is_error and "outside the workspace" in refused.content[0].text
        started = await call(client, "paper_start", manifest="cmp.yml", bib="paper_refs.bib", model=f"script:{E2E_SCRIPT}")
        paper_id = started["paper_id"]
        answered = time.monotonic()
        await call(client, "list_runs")  # the server answers while the paper is being written
        assert time.monotonic() - answered < 10
        with anyio.fail_after(240):
            while (status := await call(client, "paper_status", paper_id=paper_id))["running"]:
                await anyio.sleep(1.0)
        assert status["status"] == "completed", status
        assert status["turns"] == ["draft", "review-1", "revise-1"]
        assert status["reviews"] == [{"round": 1, "overall": 4, "confidence": 3}]
        assert [b["ok"] for b in status["builds"]] == [True, True]
        tex = await call(client, "paper_fetch", paper_id=paper_id)
        assert "\\input{results}" in tex["text"]
        review = await call(client, "paper_fetch", paper_id=paper_id, file="review-1.md")
        assert "**W1** (limitations)" in review["text"]
        pdf = await call(client, "paper_fetch", paper_id=paper_id, file="paper.pdf")
        assert "Grouped-Query versus Multi-Head Attention" in pdf["text"]
        escape = await client.call_tool("paper_fetch", {"paper_id": paper_id, "file": "../../cmp.yml"})
        assert escape.is_error and "outside the paper folder" in escape.content[0].text


def test_a_paper_write_target_validates_and_maps_to_the_session_config(comparison: Path) -> None:
    from caramba.engine.compiler import check, compile_manifest
    from caramba.processes.paper_write import PaperConfig

    manifest = comparison / "paper.yml"
    manifest.write_text("version: 2\nname: write\ntargets:\n  - type: process\n    name: paper\n"
                        "    process: {type: paper_write, manifest: cmp.yml, bib: paper_refs.bib, rounds: 2}\n")
    target = compile_manifest(str(manifest)).manifest.target("paper")
    config = PaperConfig.from_target(target, comparison)
    assert (config.source_kind, config.source, config.rounds) == ("manifest", (str(comparison / "cmp.yml"),), 2)
    assert config.bib == str(comparison / "paper_refs.bib") and config.team == (("writer", "writer"), ("reviewer", "reviewer"))
    manifest.write_text("version: 2\nname: write\ntargets:\n  - type: process\n    name: paper\n"
                        "    process: {type: paper_write, manifest: cmp.yml, runs: [a]}\n")
    errors = check(str(manifest), workspace=comparison).errors
    assert errors and errors[0].path.startswith("targets[0].process") and "exactly one of" in errors[0].message
    manifest.write_text("version: 2\nname: write\ntargets:\n  - type: process\n    name: paper\n"
                        "    process: {type: paper_write, manifest: nothere.yml}\n")
    errors = check(str(manifest), workspace=comparison).errors
    assert errors and errors[0].path == "targets[0].process.manifest" and errors[0].line == 6
