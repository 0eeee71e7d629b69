"""The brainstorm through LiteLLM's real HTTP code path, against the scripted server.

The README's three lines for a local OpenAI-compatible server are run as written (the
port of the scripted server substituted for 8000) in a workspace holding this
repository's code graph. The server answers from the end-to-end script; its request
log shows who was asked what, with which tools, and what usage it reported.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from caramba.agents.persona import load_persona
from caramba.agents.testing.openai_server import LoggedRequest, ScriptedOpenAIServer
from caramba.agents.testing.script import from_adk_script
from tests.agents.helpers import E2E_SCRIPT, E2E_TEAM, REPO

PROCESS_TOOLS = {"end_discussion", "record_proposal", "submit_manifest"}


def readme_lines() -> list[str]:
    """The three lines under the README's ``local-server-brainstorm`` marker."""
    text = (REPO / "README.md").read_text()
    block = text.split("<!-- local-server-brainstorm -->", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return block.strip().splitlines()


def run_readme(workspace: Path, port: int) -> subprocess.CompletedProcess[str]:
    """Run the README lines: the ``export`` into the environment, then the command."""
    lines = readme_lines()
    assert len(lines) == 3, lines
    export = re.match(r"export (\w+)=(\S+)", lines[0])
    assert export is not None, lines[0]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env[export.group(1)] = export.group(2)
    command = shlex.split(" ".join(line.rstrip("\\") for line in lines[1:]).replace(":8000/", f":{port}/"))
    assert command[0] == "caramba"
    return subprocess.run([sys.executable, "-m", "caramba", *command[1:]], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def readme_session(graph_workspace: Path) -> tuple[subprocess.CompletedProcess[str], list[LoggedRequest], Path]:
    with ScriptedOpenAIServer(from_adk_script(E2E_SCRIPT)) as server:
        done = run_readme(graph_workspace, int(server.url.split(":")[2].split("/")[0]))
        requests = list(server.requests)
    folders = list((graph_workspace / "brainstorms").glob("*"))
    assert len(folders) == 1, done.stdout[-2000:] + done.stderr[-3000:]
    return done, requests, folders[0]


def test_readme_brainstorm_completes_with_two_runnable_proposals(readme_session: Any) -> None:
    from caramba.engine.compiler import compile_manifest

    done, _requests, folder = readme_session
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "completed: 13 turns, 2 of 2 proposals valid" in done.stdout
    state = json.loads((folder / "state.json").read_text())
    proposals = state["data"]["proposals"]
    assert [(p["name"], p["status"]) for p in proposals] == [("dba_kv", "valid"), ("gqa_kv", "valid")]
    for proposal in proposals:  # runnable where saved: the data path was rewritten against the workspace
        saved = folder / proposal["file"]
        assert "../../../data.npy" in saved.read_text()
        assert compile_manifest(str(saved), []).manifest.name == proposal["name"]
    assert "status: completed" in (folder / "summary.md").read_text()
    turns = {t["id"]: t for t in map(json.loads, (folder / "transcript.jsonl").read_text().splitlines())}
    rejected = turns["proposal-2.attempt-1"]["tools"][0]  # the invalid GQA manifest: ok false, shown as ✗
    assert rejected["name"] == "submit_manifest" and not rejected["ok"] and "n_kv_heads" in rejected["result"]
    assert "- ✗ `submit_manifest(" in (folder / "transcript.md").read_text()


def test_every_persona_was_asked_with_its_own_tools_and_the_configured_model(readme_session: Any,
                                                                             graph_workspace: Path) -> None:
    _done, requests, _folder = readme_session
    assert {r.role for r in requests} == {"moderator", *E2E_TEAM}
    assert all(r.status == 200 and r.model == "Qwen2.5-7B-Instruct" and r.token == "sk-local" for r in requests)
    personas = {"moderator": "research_lead", **{role: role for role in E2E_TEAM}}
    for request in requests:
        allowed = set(load_persona(personas[request.role], graph_workspace).tools) | PROCESS_TOOLS
        assert set(request.tools) <= allowed, (request.role, set(request.tools) - allowed)
        assert request.max_tokens == 2048
    # a tool result reaches the model once: the structured content, not the CallToolResult wrapper
    results = [m for r in requests for m in r.tool_messages]
    assert results and not any("structuredContent" in m or "isError" in m for m in results)


def test_reported_usage_equals_what_the_server_sent(readme_session: Any) -> None:
    _done, requests, folder = readme_session
    state = json.loads((folder / "state.json").read_text())
    prompt = sum(u["prompt_tokens"] for u in state["usage"].values())
    completion = sum(u["completion_tokens"] for u in state["usage"].values())
    calls = sum(u["calls"] for u in state["usage"].values())
    assert (calls, prompt, completion) == (len(requests), sum(r.usage["prompt_tokens"] for r in requests),
                                           sum(r.usage["completion_tokens"] for r in requests))
    per_role = {role: sum(r.usage["prompt_tokens"] for r in requests if r.role == role) for role in state["usage"]}
    assert per_role == {role: u["prompt_tokens"] for role, u in state["usage"].items()}
    summary = (folder / "summary.md").read_text()
    assert f"{prompt + completion:,} tokens" in summary and "cost unknown" in summary  # a local model has no price
