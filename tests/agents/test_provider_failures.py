"""Real-provider failures and budgets through LiteLLM, against the scripted server.

A small session (moderator + architect, one round) runs on a ``caramba mcp`` HTTP
server with a bearer token (the workspace's ``mcp.token``), with fast retries
configured in ``caramba.yml``. An HTTP 500 storm and a timeout stop the session with
one message (provider, status, what to do), status ``failed``, the summary updated and
the checkpoint resumable; a 429 is retried and the session completes; malformed tool
JSON goes back to the model as a tool error it corrects; a missing key is refused before
any request (the variable named by ``api_key_env`` is used, also from a manifest's
process target with its own ``api_base``). Exit code and the absence of a traceback are
checked through the CLI. The budget is checked before each call against the call's
projected cost; an unpriced model needs a price or a token budget; a replay of a
session resumed with a larger budget follows the budget recorded at each call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from rich.console import Console

from caramba.agents.testing.openai_server import ScriptedOpenAIServer
from caramba.agents.testing.script import ServerScript
from caramba.processes import ProcessOptions, ProcessResult
from caramba.processes.brainstorm import BrainstormConfig, run_brainstorm
from tests.tools.conftest import HttpServer

CONFIG = BrainstormConfig.from_command("Where does attention live?", ["architect"], "research_lead", 1)
SETTINGS = "mcp: {token: test-token}\nllm: {retries: 2, backoff_s: 0.05, timeout_s: 2.0}\n"


def happy(**first: list[dict[str, Any]]) -> ServerScript:
    """The session's four answers, with ``first`` steps queued before a role's answers."""
    script = ServerScript(roles={"moderator": [], "architect": []})
    for role, steps in first.items():
        script.then(role, *steps)
    script.then("moderator", {"text": "Opening."})
    script.then("architect", {"text": "Attention lives in AttentionLayer."})
    script.then("moderator", {"text": "Summary."}, {"text": "No proposals."})
    return script


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("providers")
    (root / "caramba.yml").write_text(SETTINGS)
    yield root


@pytest.fixture(scope="module")
def mcp(workspace: Path) -> Iterator[HttpServer]:
    server = HttpServer(workspace).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


def session(workspace: Path, mcp: HttpServer, server: ScriptedOpenAIServer, name: str, **options: Any) -> ProcessResult:
    console = Console(file=open(workspace / f"{name}.log", "w"), width=120)
    return run_brainstorm(CONFIG, ProcessOptions(workspace=workspace, output_dir=workspace / name, console=console,
                                                 model="openai/local", api_base=server.url, mcp_url=mcp.url,
                                                 **options))


def cli(workspace: Path, mcp: HttpServer, server: ScriptedOpenAIServer, name: str, env: dict[str, str]
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "caramba", "brainstorm", "--topic", CONFIG.topic, "--personas",
                           "architect", "--rounds", "1", "--model", "openai/local", "--api-base", server.url,
                           "--mcp-url", mcp.url, "--output", name], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_500_storm_stops_cleanly_and_the_session_resumes(workspace: Path, mcp: HttpServer) -> None:
    storm = happy(moderator=[{"status": 500, "body": "upstream exploded"}] * 3)
    with ScriptedOpenAIServer(storm) as server:
        done = cli(workspace, mcp, server, "storm", {**os.environ, "OPENAI_API_KEY": "sk-test"})
        asked = server.roles_asked()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    error = done.stderr.replace("\n", " ")
    assert "openai" in error and "HTTP 500" in error and "after 3 attempts" in error and "resume" in error
    assert asked == ["moderator"] * 3  # 2 retries, then the stop
    state = json.loads((workspace / "storm" / "state.json").read_text())
    assert state["status"] == "failed" and state["turns"] == []
    assert "HTTP 500" in (workspace / "storm" / "summary.md").read_text()
    with ScriptedOpenAIServer(happy()) as server:  # the same command later: resumes and ends
        resumed = session(workspace, mcp, server, "storm")
    assert resumed.status == "completed_without_proposals" and resumed.exit_code == 3
    assert [t["id"] for t in json.loads((workspace / "storm" / "state.json").read_text())["turns"]] == \
        ["open", "round-1.architect", "summary-1", "close"]


def test_a_429_is_retried_and_the_session_completes(workspace: Path, mcp: HttpServer) -> None:
    with ScriptedOpenAIServer(happy(moderator=[{"status": 429, "body": "slow down"}])) as server:
        result = session(workspace, mcp, server, "ratelimit")
        statuses = [(r.role, r.status) for r in server.requests]
        usage = server.usage_total()
    assert result.status == "completed_without_proposals", result.message
    assert statuses[:2] == [("moderator", 429), ("moderator", 200)]
    total = result.usage["total"]
    assert (total["calls"], total["prompt_tokens"], total["completion_tokens"]) == \
        (4, usage["prompt_tokens"], usage["completion_tokens"])


def test_a_timeout_stops_cleanly(workspace: Path, mcp: HttpServer) -> None:
    with ScriptedOpenAIServer(happy(moderator=[{"delay_s": 3.0, "text": "too late"}] * 3)) as server:
        result = session(workspace, mcp, server, "timeout")
        asked = server.roles_asked()
    assert result.status == "failed" and result.exit_code == 1
    assert "timed out after 3 attempts" in result.message and "llm.timeout_s" in result.message
    assert asked == ["moderator"] * 3


def test_malformed_tool_json_goes_back_to_the_model_as_a_tool_error(workspace: Path, mcp: HttpServer) -> None:
    broken = happy(architect=[{"call": "manifest_schema", "raw_arguments": '{"component": "lay'},
                              {"call": "manifest_schema", "args": {"component": "layer"}}])
    with ScriptedOpenAIServer(broken) as server:
        result = session(workspace, mcp, server, "malformed")
        architect = [r for r in server.requests if r.role == "architect"]
    assert result.status == "completed_without_proposals", result.message
    assert len(architect) == 3 and "not valid JSON" in architect[1].tool_messages[0]
    assert "AttentionLayer" in architect[2].tool_messages[1]  # the corrected call ran
    turn = next(json.loads(line) for line in (workspace / "malformed" / "transcript.jsonl").read_text().splitlines()
                if json.loads(line)["id"] == "round-1.architect")
    assert [(c["name"], c["ok"]) for c in turn["tools"]] == [("manifest_schema", False), ("manifest_schema", True)]
    assert "✗ `manifest_schema(" in (workspace / "malformed" / "transcript.md").read_text()
    recorded = (workspace / "malformed" / "recording.jsonl").read_text()
    assert "__invalid_arguments__" in recorded


def test_a_missing_key_is_refused_before_any_request(workspace: Path, mcp: HttpServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from caramba.agents.errors import AgentSetupError

    monkeypatch.delenv("OPENAI_API_KEY")
    with ScriptedOpenAIServer(happy()) as server:
        with pytest.raises(AgentSetupError, match="needs OPENAI_API_KEY, which is not set") as missing:
            session(workspace, mcp, server, "nokey")
        assert "api_key_env" in missing.value.hint
        with pytest.raises(AgentSetupError, match="LAB_KEY named by api_key_env is not set"):
            session(workspace, mcp, server, "nokey", api_key_env="LAB_KEY")
        assert server.requests == []
    monkeypatch.setenv("LAB_KEY", "sk-lab")
    with ScriptedOpenAIServer(happy()) as server:
        assert session(workspace, mcp, server, "labkey", api_key_env="LAB_KEY").status == "completed_without_proposals"
        assert {r.token for r in server.requests} == {"sk-lab"}  # the key of the named variable was sent


def test_the_budget_stops_before_a_call_that_could_exceed_it_and_replays_as_resumed(workspace: Path,
                                                                                     mcp: HttpServer) -> None:
    priced = {"price_per_mtok": (1.0, 100.0)}  # a call of 500 + 1500 tokens costs $0.1505
    script = happy()
    script.default_usage.prompt_tokens, script.default_usage.completion_tokens = 500, 1500
    with ScriptedOpenAIServer(script) as server:
        stopped = session(workspace, mcp, server, "budget", budget_usd=0.5, **priced)
        asked = server.roles_asked()
    # a third call could cost up to 2048 completion tokens ($0.2048): $0.301 + that > $0.5, so it is not made
    assert stopped.status == "stopped_budget" and stopped.exit_code == 0, stopped.message
    assert asked == ["moderator", "architect"]
    assert stopped.usage["total"]["cost_usd"] == pytest.approx(0.301) and "budget of $0.5" in stopped.message
    assert "stopped: budget of $0.5" in (workspace / "budget" / "summary.md").read_text()
    with ScriptedOpenAIServer(script) as server:  # resumed with a larger budget: the rest of the session
        resumed = session(workspace, mcp, server, "budget", budget_usd=5.0, **priced)
    assert resumed.status == "completed_without_proposals" and resumed.usage["total"]["calls"] == 4
    # a replay starts at the recorded $0.5 but each call is checked against the budget in force when it was made
    replayed = session(workspace, mcp, server, "budget-replay", replay=workspace / "budget" / "recording.jsonl")
    assert replayed.status == "completed_without_proposals", replayed.message
    for name in ("transcript.md", "transcript.jsonl"):
        assert (workspace / "budget-replay" / name).read_text() == (workspace / "budget" / name).read_text()


def test_an_unpriced_model_needs_a_price_or_a_token_budget(workspace: Path, mcp: HttpServer) -> None:
    from caramba.agents.errors import AgentSetupError

    script = happy()
    script.default_usage.prompt_tokens, script.default_usage.completion_tokens = 500, 1500
    with ScriptedOpenAIServer(script) as server:
        with pytest.raises(AgentSetupError, match="no price") as refused:
            session(workspace, mcp, server, "unpriced", budget_usd=0.5)
        assert "--price-per-mtok" in refused.value.hint and "--budget-tokens" in refused.value.hint
        assert server.requests == []
        limited = session(workspace, mcp, server, "tokens", budget_tokens=9000)
        sent = server.usage_total()
    assert limited.status == "stopped_budget" and "9,000 tokens" in limited.message
    assert 0 < sent["prompt_tokens"] + sent["completion_tokens"] <= 9000


def test_a_process_target_names_its_server_key_variable_and_token_budget(workspace: Path, mcp: HttpServer,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from caramba.engine.compiler import compile_manifest
    from caramba.processes import run_process

    monkeypatch.setenv("LAB_KEY", "sk-target")
    with ScriptedOpenAIServer(happy()) as server:
        manifest = workspace / "target.yml"
        manifest.write_text(f"""version: 2
name: research
targets:
  - type: process
    name: where
    team: {{moderator: research_lead, architect: architect}}
    process: {{type: brainstorm, topic: "{CONFIG.topic}", rounds: 1, model: openai/local,
               api_base: "{server.url}", api_key_env: LAB_KEY, budget_tokens: 100000}}
""")
        target = compile_manifest(str(manifest), [], workspace).manifest.targets[0]
        result = run_process(target, ProcessOptions(workspace=workspace, output_dir=workspace / "target",  # type: ignore[arg-type]
                                                    mcp_url=mcp.url, console=Console(file=open(os.devnull, "w"))))
        tokens = {r.token for r in server.requests}
    assert result.status == "completed_without_proposals" and tokens == {"sk-target"}
    assert result.usage["budget_tokens"] == 100000
