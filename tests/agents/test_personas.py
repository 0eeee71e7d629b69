"""Persona files, model choice, pricing and the scripted model, without a session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from google.adk.models import LlmRequest
from google.genai import types

from caramba.agents.build import ToolGate, build_agent
from caramba.agents.errors import AgentSetupError, ModelNotConfigured, ScriptError
from caramba.agents.models import ModelChoice, build_model, choose_model
from caramba.agents.persona import BUILTIN_DIR, load_persona, persona_names
from caramba.agents.scripted import ScriptedLlm, load_script
from caramba.agents.toolset import check_allow_lists
from caramba.agents.usage import Budget, Pricing, Usage, UsageMeter, price
from caramba.engine.compiler.errors import ManifestInvalid
from caramba.workspace.config import LlmSettings

CONTRACT_TOOLS = ("list_presets read_preset manifest_schema generate_manifest validate_manifest dry_run_manifest "
                  "run_manifest run_status list_runs cancel_run get_run_results read_artifact compare_runs "
                  "codegraph_query find_symbol callers callees neighbours shortest_path impact codegraph_sync "
                  "memory_search memory_facts memory_timeline memory_add_note memory_related_runs").split()
REQUIRED = {"research_lead", "architect", "ml_expert", "contrarian", "mathematician", "developer", "reviewer", "writer"}


class _Quiet:
    def tool_started(self, *args: object) -> None: ...

    def tool_finished(self, *args: object) -> None: ...


def test_builtin_personas_load_and_list_only_served_tools(tmp_path: Path) -> None:
    names = persona_names(tmp_path)
    assert REQUIRED <= set(names)
    personas = {n: load_persona(n, tmp_path) for n in names}
    check_allow_lists(personas, CONTRACT_TOOLS)
    assert len({p.instruction for p in personas.values()}) == len(personas)
    for name in ("research_lead", "architect"):  # the moderator and the architect consult memory before proposing
        assert {"memory_search", "memory_related_runs"} <= set(personas[name].tools), name
        assert "memory_search" in personas[name].instruction and "run id" in personas[name].instruction, name


def test_unknown_persona_key_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "personas").mkdir()
    text = (BUILTIN_DIR / "architect.yml").read_text().replace("instruction:", "instructions:")
    (tmp_path / "personas" / "architect.yml").write_text(text)
    with pytest.raises(ManifestInvalid) as caught:
        load_persona("architect", tmp_path)
    rendered = str(caught.value)
    assert "instructions" in rendered and "did you mean 'instruction'" in rendered and "architect.yml:" in rendered


def test_unknown_persona_name_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(AgentSetupError, match="did you mean 'developer'"):
        load_persona("developr", tmp_path)


def test_model_precedence_and_the_no_model_error(tmp_path: Path) -> None:
    persona = load_persona("architect", tmp_path)
    workspace = LlmSettings(model="ollama_chat/llama3.1", api_base="http://localhost:11434")
    assert choose_model(persona, "anthropic/claude-sonnet-4-5", None, workspace).model == "anthropic/claude-sonnet-4-5"
    assert choose_model(persona, None, None, workspace) == ModelChoice("ollama_chat/llama3.1", "http://localhost:11434",
                                                                       "caramba.yml llm.model")
    assert choose_model(persona.model_copy(update={"model": "gemini/gemini-2.5-flash"}), None, None, workspace).model \
        == "gemini/gemini-2.5-flash"
    with pytest.raises(ModelNotConfigured, match="--model provider/model") as caught:
        choose_model(persona, None, None, LlmSettings())
    assert "caramba.yml" in caught.value.hint


def test_litellm_models_and_cost_unknown_for_unpriced_models(tmp_path: Path) -> None:
    from google.adk.models.lite_llm import LiteLlm

    model, pricing = build_model(ModelChoice("openai/my-local", "http://127.0.0.1:8000/v1", "--model", "HOME"),
                                 "architect", tmp_path)
    assert isinstance(model, LiteLlm) and pricing == Pricing("openai/my-local") and not pricing.known
    with pytest.raises(AgentSetupError, match="no provider prefix"):
        build_model(ModelChoice("gpt-4o", None, "--model"), "architect", tmp_path)
    assert price("openai/my-local", 1000, 100) is None
    assert price("openai/gpt-4o-mini", 1000, 100) == pytest.approx(1000 * 0.15e-6 + 100 * 0.6e-6)
    meter = UsageMeter(Budget(usd=1.0))
    meter.record("architect", "openai/my-local", 1000, 100)
    assert "cost unknown" in meter.total.describe()
    assert Pricing("openai/my-local", (1.0, 2.0)).cost(1_000_000, 500_000) == pytest.approx(2.0)
    assert Usage(1, 10, 5, 0.5).describe() == "15 tokens, $0.5000"


def test_agent_from_persona_with_output_schema(tmp_path: Path) -> None:
    persona = load_persona("reviewer", tmp_path).model_copy(update={"output_schema": {
        "type": "object", "properties": {"verdict": {"type": "string"}}, "required": ["verdict"]}})
    script = load_script(Path(__file__).parent / "scripts" / "brainstorm_e2e.yml")
    agent = build_agent("reviewer", persona, ScriptedLlm(script=script, role="reviewer"), [], ToolGate("reviewer", _Quiet(), 4))
    assert agent.name == "reviewer" and agent.output_schema == persona.output_schema


def test_scripted_model_names_the_missing_turn() -> None:
    script = load_script(Path(__file__).parent / "scripts" / "brainstorm_e2e.yml")
    model = ScriptedLlm(script=script, role="architect")
    model.begin_turn("round-9.architect")
    request = LlmRequest(contents=[types.Content(role="user", parts=[types.Part(text="hi")])])

    async def first() -> None:
        async for _ in model.generate_content_async(request):
            pass

    with pytest.raises(ScriptError, match="no turn 'round-9.architect' for role 'architect'"):
        asyncio.run(first())


def test_a_persona_file_outside_the_workspace_is_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "evil.yml").write_text("name: evil\n")
    (workspace / "link.yml").symlink_to(tmp_path / "evil.yml")
    for name in ("../evil.yml", str(tmp_path / "evil.yml"), "link.yml"):
        with pytest.raises(AgentSetupError, match="outside the workspace"):
            load_persona(name, workspace)
