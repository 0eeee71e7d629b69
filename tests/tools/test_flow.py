"""The LLM-style flow over stdio, through the SDK's Client and a real `caramba mcp`:
generate → validate → fix → validate → dry-run → run → status until done → results →
read artifacts (CSV as text, PNG as an image) → compare."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.conftest import call, stdio_client, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_generate_validate_fix_dry_run_run_results(workspace: Path) -> None:
    async with stdio_client(workspace) as client:
        generated = await call(client, "generate_manifest", name="tiny", d_model=32, n_heads=2, n_layers=1, d_ff=64,
                               block_size=32, batch_size=4, steps=20, device="cpu", benchmarks=["perplexity"])
        assert generated["ok"], generated["errors"]
        manifest = generated["manifest"]

        broken = manifest.replace("n_heads: 2", "n_heads: 3")
        report = await call(client, "validate_manifest", manifest=broken)
        assert not report["ok"]
        error = report["errors"][0]
        assert error["path"].endswith("n_heads") and error["line"] and "does not divide" in error["message"] and error["hint"]

        fixed = broken.replace("n_heads: 3", "n_heads: 2")
        assert (await call(client, "validate_manifest", manifest=fixed)) == {"ok": True, "errors": []}

        plan = await call(client, "dry_run_manifest", manifest=fixed)
        assert plan["targets"][0]["params_total"] > 0

        launch = await call(client, "run_manifest", manifest=fixed)
        (run_id,) = launch["run_ids"]
        assert launch["runs"][0]["status"] in ("queued", "running")
        status = await wait_for(client, run_id, ("succeeded", "failed", "cancelled"))
        assert status["status"] == "succeeded", status
        assert status["step"] == 20

        results = await call(client, "get_run_results", run_id=run_id)
        assert results["metrics"]["last_train"] is not None
        tables = {t["name"]: t for t in results["benchmarks"]}
        assert "perplexity.csv" in tables and tables["perplexity.csv"]["rows"]

        csv = await client.call_tool("read_artifact", {"run_id": run_id, "name": "perplexity.csv"})
        assert not csv.is_error and "run_id" in csv.content[0].text
        assert csv.structured_content["media_type"] == "text/csv" and "run_id" in csv.structured_content["columns"]
        png_name = next(a for a in status["artifacts"] if a.endswith(".png"))
        png = await client.call_tool("read_artifact", {"run_id": run_id, "name": png_name})
        assert png.content[0].type == "image" and png.structured_content["media_type"] == "image/png"

        listed = await call(client, "list_runs")
        assert run_id in {r["id"] for r in listed["runs"]}
        comparison = await call(client, "compare_runs", run_ids=[run_id, run_id])
        assert comparison["differences"] == {}
