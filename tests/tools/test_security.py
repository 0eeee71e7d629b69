"""Workspace confinement and refusals: path traversal (.., absolute, symlinks), paths
inside manifests, `extends` escapes, `python:` references, artifact names, a broken
manifest as structured errors, and the HTTP bearer token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from caramba.tools.http import BindRefused, http_app
from tests.tools.conftest import HttpServer, call, inprocess, make_workspace, tiny_manifest

pytestmark = pytest.mark.anyio


async def test_manifest_paths_outside_the_workspace_are_refused(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text(tiny_manifest())
    (workspace / "link.yml").symlink_to(outside)
    async with inprocess(workspace) as client:
        for bad in ("../outside.yml", str(outside), "link.yml", "sub/../../outside.yml"):
            result = await client.call_tool("validate_manifest", {"manifest": bad})
            assert result.is_error and "outside the workspace" in result.content[0].text, bad
        result = await client.call_tool("run_manifest", {"manifest": "../outside.yml"})
        assert result.is_error and "outside the workspace" in result.content[0].text


async def test_data_paths_and_extends_outside_are_errors(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(tiny_manifest())
    async with inprocess(workspace) as client:
        report = await call(client, "validate_manifest", manifest=tiny_manifest().replace("path: data.npy", "path: ../../secret.npy"))
        assert not report["ok"] and "outside the workspace" in report["errors"][0]["message"]
        assert report["errors"][0]["path"] == "targets[0].data.config.path" and report["errors"][0]["line"]
        report = await call(client, "validate_manifest", manifest="extends: ../base.yml\nname: x\n")
        assert not report["ok"] and report["errors"][0]["path"] == "extends"
        ran = await client.call_tool("dry_run_manifest", {"manifest": tiny_manifest().replace("data.npy", "/etc/passwd")})
        assert ran.is_error and "outside the workspace" in ran.content[0].text


async def test_python_references_need_the_allowlist(tmp_path: Path) -> None:
    text = tiny_manifest().replace("vars:\n", "vars:\n  op: python:os:system\n  ok_op: python:mylab.ops:Gate\n")
    async with inprocess(make_workspace(tmp_path / "a")) as client:
        report = await call(client, "validate_manifest", manifest=text)
        assert not report["ok"] and len(report["errors"]) == 2
        assert "python_allowlist" in report["errors"][0]["message"] and report["errors"][0]["path"] == "vars.op"
        run = await client.call_tool("run_manifest", {"manifest": text})
        assert run.is_error and "python:os:system" in run.content[0].text
    async with inprocess(make_workspace(tmp_path / "b", "python_allowlist: [mylab]\n")) as client:
        report = await call(client, "validate_manifest", manifest=text)
        assert [e["path"] for e in report["errors"]] == ["vars.op"]


async def test_broken_manifest_is_a_normal_result(workspace: Path) -> None:
    async with inprocess(workspace) as client:
        report = await call(client, "validate_manifest", manifest="version: 2\ntargets:\n  - type: experiment\n    nme: x\n")
        assert report["ok"] is False and report["errors"]
        for error in report["errors"]:
            assert set(error) >= {"path", "line", "column", "message", "hint"}
        report = await call(client, "validate_manifest", manifest="version: 2\ntargets: [\n")
        assert not report["ok"] and report["errors"][0]["stage"] == "syntax"


async def test_artifact_names_cannot_leave_the_run(workspace: Path) -> None:
    run = workspace / ".caramba" / "runs" / "t-train-00000000"
    (run / "artifacts").mkdir(parents=True)
    (run / "artifacts" / "table.csv").write_text("run_id,ppl\nt-train-00000000,3.5\n")
    (run / "status.json").write_text(json.dumps({"id": run.name, "target": "t", "run": "train", "manifest_name": "t",
                                                 "manifest_digest": "0", "status": "succeeded", "artifacts": ["table.csv"]}))
    async with inprocess(workspace) as client:
        ok = await client.call_tool("read_artifact", {"run_id": run.name, "name": "table.csv"})
        assert not ok.is_error and "3.5" in ok.content[0].text
        for bad in ("../../../caramba.yml", "/etc/passwd", "../../../../etc/passwd"):
            result = await client.call_tool("read_artifact", {"run_id": run.name, "name": bad})
            assert result.is_error and "refused" in result.content[0].text, bad
        unknown = await client.call_tool("run_status", {"run_id": "t-train-0000"})
        assert not unknown.is_error  # a unique prefix is accepted
        unknown = await client.call_tool("run_status", {"run_id": "nope"})
        assert unknown.is_error and "no run" in unknown.content[0].text


async def test_http_token_beyond_loopback(tmp_path: Path) -> None:
    from caramba.tools.server import build_server

    root = make_workspace(tmp_path / "ws", "mcp:\n  token: s3cret\n")
    import os

    cwd = os.getcwd()
    with pytest.raises(BindRefused, match="mcp.token"):
        http_app(build_server(tmp_path, watchdog=False), "0.0.0.0", None)
    os.chdir(cwd)
    server = HttpServer(root).start()
    try:
        async with httpx.AsyncClient() as raw:
            denied = await raw.post(server.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert denied.status_code == 401
        http = create_mcp_http_client(headers={"Authorization": "Bearer s3cret"})
        async with http, Client(streamable_http_client(server.url, http_client=http)) as client:
            assert (await call(client, "list_presets"))["presets"]
    finally:
        server.stop()


async def test_preset_names_cannot_traverse(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.yml").write_text("version: 2\n")
    async with inprocess(workspace) as client:
        for tool, args in (("read_preset", {"name": "../../../../../../" + str(tmp_path / "secret")}),
                           ("generate_manifest", {"preset": "../" * 8 + str(tmp_path / "secret")[1:]})):
            result = await client.call_tool(tool, args)
            assert result.is_error and "unknown preset" in result.content[0].text, tool
        assert (await call(client, "read_preset", name="complete_example"))["yaml"].startswith("#")


async def test_a_benchmarked_checkpoint_outside_the_workspace_fails_validation(workspace: Path, tmp_path: Path) -> None:
    """The pickle attack of issue #13: a `benchmarks[].models` entry naming a checkpoint
    folder outside the workspace validated ok and its state.pt was unpickled in the run."""
    evil = tmp_path / "evil" / "step_00000001"
    evil.mkdir(parents=True)
    text = tiny_manifest().replace("    models:\n    - student\n", f"    models:\n    - student\n    - {evil}\n")
    async with inprocess(workspace) as client:
        report = await call(client, "validate_manifest", manifest=text)
        assert not report["ok"] and report["errors"][0]["path"] == "targets[0].benchmarks[0].models[1]", report
        assert "outside the workspace" in report["errors"][0]["message"] and report["errors"][0]["line"]
        run = await client.call_tool("run_manifest", {"manifest": text})
        assert run.is_error and "benchmarks[0].models[1]" in run.content[0].text


async def test_http_refuses_foreign_host_and_origin(http_server: HttpServer) -> None:
    """DNS rebinding: a page of another origin, or a request naming another Host, gets no answer."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx.AsyncClient() as raw:
        ok = await raw.post(http_server.url, json=body, headers=headers)
        host = await raw.post(http_server.url, json=body, headers={**headers, "Host": "evil.example:80"})
        origin = await raw.post(http_server.url, json=body, headers={**headers, "Origin": "http://evil.example"})
    assert ok.status_code == 200, ok.text
    assert host.status_code in (400, 403, 421) and origin.status_code in (400, 403), (host.status_code, origin.status_code)
