"""The agent runtime's parts, without a session: fast unit tests.

The model name that reaches LiteLLM, retries and failures of the provider client,
repaired tool calls, the budget projection, the tool gate, compact tool results and
declarations, turn limits, replayed budgets, and the process registry's refusal of
unimplemented process types.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import litellm
import pytest
from google.adk.models import LlmRequest
from google.genai import types

from caramba.agents.build import ToolGate, compact_result
from caramba.agents.declarations import concise
from caramba.agents.errors import BudgetReached, ProviderFailed, TurnLimitReached
from caramba.agents.models import ModelChoice, build_model
from caramba.agents.provider import INVALID, ProviderClient, repair_tool_calls
from caramba.agents.recording import Recorder, read_recording
from caramba.agents.runtime.llm import SessionLlm
from caramba.agents.scripted import Script, ScriptedLlm
from caramba.agents.usage import Budget, Pricing, UsageMeter
from caramba.workspace.config import LlmSettings


def request(text: str = "hello") -> LlmRequest:
    return LlmRequest(model="caramba-wrapper-name", contents=[types.Content(role="user", parts=[types.Part(text=text)])])


def recorder(folder: Path) -> Recorder:
    """A recording with its session header, as a session writes it."""
    recording = Recorder(folder / "rec.jsonl")
    recording.append({"kind": "session", "process": "test", "config": {}, "pricing": {}})
    return recording


async def first(model: Any, req: LlmRequest) -> Any:
    return [r async for r in model.generate_content_async(req)][-1]


class Calls:
    """Stands in for ``litellm.acompletion``: raises the queued errors, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.kwargs = list(errors), []

    async def __call__(self, **kwargs: Any) -> Any:
        self.kwargs.append(kwargs)
        if self.errors:
            raise self.errors.pop(0)
        return litellm.mock_completion(model=kwargs["model"], messages=kwargs["messages"], mock_response="hi")


def test_the_configured_model_name_reaches_litellm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    monkeypatch.setattr(litellm, "acompletion", calls)
    inner, pricing = build_model(ModelChoice("openai/my-served-model", "http://127.0.0.1:1/v1", "--model", "HOME"),
                                 "architect", tmp_path, LlmSettings(max_tokens=64))
    meter = UsageMeter()
    model = SessionLlm.wrap(inner, "architect", pricing, 64, 4, recorder(tmp_path), meter)
    model.begin_turn("open")
    response = asyncio.run(first(model, request()))
    assert response.content.parts[0].text == "hi" and model.take_stop() is None
    sent = calls.kwargs[0]
    assert sent["model"] == "openai/my-served-model" and sent["api_base"] == "http://127.0.0.1:1/v1"
    assert sent["max_tokens"] == 64 and sent["num_retries"] == 0 and sent["max_retries"] == 0
    assert meter.total.calls == 1 and meter.total.prompt_tokens > 0  # the mock's usage was metered
    assert read_recording(tmp_path / "rec.jsonl").calls[("architect", "open", 0)]["budget"] == {"usd": None, "tokens": None}


def test_retries_back_off_then_stop_with_one_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    limited = litellm.RateLimitError("slow down", llm_provider="openai", model="m")
    broken = litellm.InternalServerError("boom", llm_provider="openai", model="m")
    denied = litellm.AuthenticationError("bad key", llm_provider="openai", model="m")
    client = ProviderClient("openai/m", retries=2, backoff_s=0.001)
    assert [client.delay(n, broken) for n in range(3)] == [0.001, 0.002, 0.004]
    monkeypatch.setattr(litellm, "acompletion", calls := Calls(limited, broken))
    asyncio.run(client.acompletion("openai/m", [{"role": "user", "content": "x"}], None))
    assert len(calls.kwargs) == 3  # two failures retried, then the answer
    monkeypatch.setattr(litellm, "acompletion", calls := Calls(broken, broken, broken))
    with pytest.raises(ProviderFailed, match=r"openai \(openai/m\) kept failing \(HTTP 500\) after 3 attempts: boom"):
        asyncio.run(client.acompletion("openai/m", [], None))
    monkeypatch.setattr(litellm, "acompletion", calls := Calls(denied))
    with pytest.raises(ProviderFailed, match="refused the key") as caught:
        asyncio.run(client.acompletion("openai/m", [], None))
    assert len(calls.kwargs) == 1 and "api_key_env" in caught.value.hint  # a 401 is not retried


def test_malformed_tool_arguments_become_a_tool_error_the_model_sees() -> None:
    response = litellm.mock_completion(model="openai/m", messages=[], mock_response="", mock_tool_calls=[
        {"id": "c1", "type": "function", "function": {"name": "find_symbol", "arguments": '{"name": "Att'}},
        {"id": "c2", "type": "function", "function": {"name": "callers", "arguments": '["not", "an", "object"]'}},
        {"id": "c3", "type": "function", "function": {"name": "callees", "arguments": '{"qualname": "a.b"}'}}])
    calls = repair_tool_calls(response).choices[0].message.tool_calls
    args = [json.loads(c.function.arguments) for c in calls]
    assert args[0][INVALID] == '{"name": "Att' and "not valid JSON" in args[0]["__error__"]
    assert "not an object" in args[1]["__error__"] and args[2] == {"qualname": "a.b"}

    class Log:
        def __init__(self) -> None:
            self.events: list[tuple[str, bool]] = []

        def tool_started(self, *a: Any) -> None: ...

        def tool_finished(self, role: str, name: str, ok: bool, result: Any) -> None:
            self.events.append((name, ok))

    log, tool = Log(), type("T", (), {"name": "find_symbol"})()
    gate = ToolGate("architect", log, max_calls=1)
    refusal = gate.before(tool, args[0], None)
    assert refusal is not None and refusal["ok"] is False and "not valid JSON" in refusal["error"]
    assert gate.after(tool, args[0], None, refusal) == refusal and log.events == [("find_symbol", False)]
    assert gate.before(tool, {"name": "x"}, None) is None  # the first real call runs
    assert "limit of 1 tool calls" in gate.before(tool, {"name": "y"}, None)["error"]  # type: ignore[index]


def test_a_tool_result_reaches_the_model_once() -> None:
    mcp = {"content": [{"type": "text", "text": '{"total": 2}'}], "structuredContent": {"total": 2}, "isError": False}
    assert compact_result(mcp) == {"total": 2}
    failed = {"content": [{"type": "text", "text": "graph missing"}], "isError": True}
    assert compact_result(failed) == {"ok": False, "error": "graph missing"}
    assert compact_result({"ok": True, "recorded": 1}) == {"ok": True, "recorded": 1}
    fenced = ("<<<BEGIN_UNTRUSTED_TOOL_DESCRIPTION>>>\nWhat calls this,\n   directly.\n<<<END_UNTRUSTED_TOOL_DESCRIPTION>>>"
              '\nReturns a JSON object conforming to this schema: {"type":"object"}')
    assert concise(fenced) == "What calls this, directly."


def test_the_budget_refuses_a_call_whose_projection_does_not_fit() -> None:
    priced = Pricing("openai/local", (1.0, 100.0))
    meter = UsageMeter(Budget(usd=0.5))
    meter.check("a", priced, 1000, 2000)  # $0.201 projected: fits
    meter.record("a", priced, 1000, 2000)
    meter.record("a", priced, 1000, 1000)
    with pytest.raises(BudgetReached, match=r"spent \$0\.3020; the next call of a could cost up to \$0\.2010"):
        meter.check("a", priced, 1000, 2000)
    tokens = UsageMeter(Budget(tokens=5000))
    tokens.record("a", Pricing("openai/local"), 1000, 1000)
    tokens.check("a", Pricing("openai/local"), 1000, 1000)
    with pytest.raises(BudgetReached, match="5,000 tokens"):
        tokens.check("a", Pricing("openai/local"), 1000, 2001)
    with pytest.raises(BudgetReached, match="no price"):
        UsageMeter(Budget(usd=1.0)).check("a", Pricing("openai/local"), 10, 10)


def test_turn_limits_and_recorded_budget_stops(tmp_path: Path) -> None:
    script = Script.model_validate({"price_as": "openai/gpt-4o-mini", "roles": {"a": {"t": [
        {"call": "x"}, {"call": "x"}, {"text": "done"}]}}})
    meter = UsageMeter(Budget(usd=0.0001))
    model = SessionLlm.wrap(ScriptedLlm(script=script, role="a"), "a", Pricing("openai/gpt-4o-mini"), 2048, 1,
                            recorder(tmp_path), meter)
    model.begin_turn("t")
    response = asyncio.run(first(model, request()))
    assert response.error_code == "CARAMBA_STOP" and isinstance(model.take_stop(), BudgetReached)
    stop = read_recording(tmp_path / "rec.jsonl").stops[("a", "t", 0)]
    assert stop["budget"] == {"usd": 0.0001, "tokens": None}  # a replay checks against this budget
    meter.budget = Budget()
    model.begin_turn("t")  # the turn run again (a resumed session)
    asyncio.run(first(model, request()))
    assert model.take_stop() is None
    asyncio.run(first(model, request()))
    assert isinstance(model.take_stop(), TurnLimitReached)  # the second call of a 1-call turn


def test_unimplemented_process_types_are_unknown_to_the_schema(tmp_path: Path) -> None:
    from caramba.engine.compiler import check

    manifest = tmp_path / "m.yml"
    manifest.write_text("version: 2\nname: m\ntargets:\n  - type: process\n    name: dev\n"
                        "    process: {type: symposium, chair: writer}\n")
    errors = check(str(manifest)).errors
    assert [(e.path, e.message) for e in errors] == [("targets[0].process.type", "unknown type 'symposium'")]
    assert "valid: brainstorm" in errors[0].hint and errors[0].line == 6


def test_a_saved_manifest_runs_where_it_is_saved(tmp_path: Path) -> None:
    import textwrap

    from caramba.agents.manifests.save import save_runnable
    from caramba.agents.scripted import load_script
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.data.prepare import prepare
    from caramba.engine.data.tokenizers.byte import ByteTokenizer
    from tests.agents.helpers import E2E_SCRIPT

    prepare(Path(textwrap.__file__), tmp_path / "data.npy", ByteTokenizer())
    manifest = load_script(E2E_SCRIPT).anchors["dba"]
    saved = tmp_path / "brainstorms" / "s" / "proposals" / "01_dba_kv.yml"
    assert save_runnable(manifest, saved, tmp_path) == []
    assert "path: ../../../data.npy" in saved.read_text() and "${d_model}" in saved.read_text()
    compiled = compile_manifest(str(saved), [], tmp_path)  # from its own folder: the workspace's data.npy
    assert compiled.manifest.targets[0].data.config.path == str((tmp_path / "data.npy").resolve())
    (tmp_path / "data.npy").unlink()
    errors = save_runnable(manifest, saved, tmp_path)
    assert errors and "data.npy" in errors[0]["message"] and not saved.exists()  # nothing half-written
