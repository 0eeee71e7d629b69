"""Truthful status: a relaunch is reported queued (resuming), never the previous outcome;
the resume removes a killed write's temporary checkpoint folder; and the concurrency
limit holds across two servers of one workspace (a file lock in the run store)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.tools.conftest import HttpServer, call, inprocess, make_workspace, tiny_manifest, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_relaunch_is_queued_then_resumes_never_the_old_outcome(workspace: Path) -> None:
    manifest = tiny_manifest(name="long", steps=50_000, benchmarks=())
    async with inprocess(workspace) as client:
        (run_id,) = (await call(client, "run_manifest", manifest=manifest))["run_ids"]
        first = await wait_for(client, run_id, ("running",), min_step=3)
        cancelled = await call(client, "cancel_run", run_id=run_id)
        assert cancelled["status"] == "cancelled" and first["pid"]  # its checkpoint is written; it may still be exiting
        checkpoints = workspace / ".caramba" / "runs" / run_id / "checkpoints"
        stale = checkpoints / ".step_00099999.4242.tmp"  # what a kill -9 during a checkpoint write leaves
        stale.mkdir(parents=True)
        relaunch = await call(client, "run_manifest", manifest=manifest)
        status = await call(client, "run_status", run_id=run_id)  # before the new process has written anything
        assert relaunch["runs"][0]["status"] == "queued" and status["status"] == "queued", status
        assert "resuming from step" in status["reasons"][0]
        seen = set()
        with anyio.fail_after(90):
            while True:
                status = await call(client, "run_status", run_id=run_id)
                seen.add(status["status"])
                if status["status"] == "running" and status["step"] > cancelled["step"]:
                    break
                await anyio.sleep(0.1)
        assert seen <= {"queued", "running"}, seen
        assert not stale.exists()
        assert (await call(client, "cancel_run", run_id=run_id))["status"] == "cancelled"


async def test_max_concurrent_runs_holds_across_two_servers(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", "mcp:\n  max_concurrent_runs: 1\n")
    servers = [HttpServer(root).start(), HttpServer(root).start()]
    results: list[object] = [None, None]
    try:
        async with Client(servers[0].url) as first, Client(servers[1].url) as second:
            async def launch(index: int, client: Client) -> None:
                manifest = tiny_manifest(name=f"arm{index}", steps=50_000, benchmarks=())
                results[index] = await client.call_tool("run_manifest", {"manifest": manifest})

            async with anyio.create_task_group() as group:
                group.start_soon(launch, 0, first)
                group.start_soon(launch, 1, second)
            started = [r for r in results if not r.is_error]  # type: ignore[union-attr]
            refused = [r for r in results if r.is_error]  # type: ignore[union-attr]
            assert len(started) == 1 and len(refused) == 1, results
            assert "max_concurrent_runs" in refused[0].content[0].text
            (run_id,) = started[0].structured_content["run_ids"]
            client = first if results[0] is started[0] else second
            await wait_for(client, run_id, ("running",))
            await call(client, "cancel_run", run_id=run_id)
    finally:
        for server in servers:
            server.stop()


async def test_cancel_during_a_long_verification_ends_the_run_within_seconds(workspace: Path) -> None:
    """A run through MCP whose verification is long (60,000 held-out batches) is cancelled
    while verifying: it ends `cancelled`, saying where, instead of running to the end."""
    import time

    manifest = tiny_manifest(name="verifying", steps=3, benchmarks=()).replace(
        "      device: cpu\n", "      device: cpu\n    verify:\n      type: fidelity\n      batches: 60000\n")
    async with inprocess(workspace) as client:
        (run_id,) = (await call(client, "run_manifest", manifest=manifest))["run_ids"]
        await wait_for(client, run_id, ("running",), min_step=3)  # training done: verification has begun
        log = workspace / ".caramba" / "runs" / run_id / "log.txt"
        with anyio.fail_after(60):
            while "training finished" not in (log.read_text() if log.is_file() else ""):
                await anyio.sleep(0.1)
        started = time.perf_counter()
        cancelled = await call(client, "cancel_run", run_id=run_id)
        assert cancelled["status"] == "cancelled" and time.perf_counter() - started < 10, cancelled
        assert any("cancelled during held-out evaluation" in reason for reason in cancelled["reasons"]), cancelled


async def test_an_mcp_run_finds_its_in_workspace_teacher(workspace: Path) -> None:
    """Issue #13: `teacher_ckpt` was resolved against the folder of the manifest the server
    writes (.caramba/manifests/), so a valid in-workspace teacher failed with a traceback."""
    import json

    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(vocab_size=256, n_positions=64, n_embd=32, n_layer=1, n_head=2)).save_pretrained(
        workspace / "teacher")
    manifest = tiny_manifest(name="taught", steps=3, benchmarks=()).replace(
        "      device: cpu\n", "      device: cpu\n      teacher_ckpt: teacher\n"
                              "    verify:\n      type: fidelity\n      batches: 2\n      max_ppl_ratio: 1000\n")
    async with inprocess(workspace) as client:
        launch = await call(client, "run_manifest", manifest=manifest, wait=True)
        status = launch["runs"][0]
        assert status["status"] == "succeeded", status
        verdict = json.loads((workspace / ".caramba" / "runs" / status["id"] / "artifacts" / "verify.json").read_text())
        assert verdict["measurements"]["reference"] == "teacher" and verdict["passed"]
