"""Free text becomes graph facts through an LLM: a scripted Graphiti LLM client (fast), and the
real LiteLLM path against a scripted OpenAI-compatible server on 127.0.0.1 (with its cost line)."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from graphiti_core.llm_client.client import LLMClient

from caramba.memory.api import Memory
from caramba.workspace.config import LlmSettings, WorkspaceConfig

NOTE = "Our review found that DBA halves the KV cache of the 4k-context model compared with GQA."
ANSWERS: dict[str, dict[str, Any]] = {
    "ExtractedEntities": {"extracted_entities": [{"name": "DBA", "entity_type_id": 0}, {"name": "KV cache", "entity_type_id": 0}]},
    "ExtractedEdges": {"edges": [{"source_entity_name": "DBA", "target_entity_name": "KV cache", "relation_type": "HALVES",
                                  "fact": "DBA halves the KV cache of the 4k-context model"}]},
    "EdgeTimestamps": {"valid_at": None, "invalid_at": None},
    "NodeResolutions": {"entity_resolutions": []},
    "EdgeDuplicate": {"duplicate_facts": [], "contradicted_facts": []},
    "SummarizedEntities": {"summaries": []},
    "BatchEdgeTimestamps": {"timestamps": []},
}


def answer(model_name: str) -> dict[str, Any]:
    """The scripted extraction for one of Graphiti's prompts."""
    if model_name == "CombinedExtraction":
        return {**ANSWERS["ExtractedEntities"], **ANSWERS["ExtractedEdges"]}
    return ANSWERS.get(model_name, {})


class ScriptedGraphitiLlm(LLMClient):
    """Answers Graphiti's prompts by response model; records which were asked."""

    def __init__(self) -> None:
        super().__init__(None)
        self.asked: list[str] = []

    async def _generate_response(self, messages: Any, response_model: Any = None, max_tokens: int = 0,
                                 model_size: Any = None, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(response_model.__name__)
        return answer(response_model.__name__)


def check_extracted(memory: Memory, result: dict[str, Any]) -> None:
    assert result["extraction"]["facts"] == ["DBA halves the KV cache of the 4k-context model"]
    facts = memory.facts("DBA")
    assert facts["matched"] == "entity"
    fact = next(f for f in facts["facts"] if f["relation"] == "HALVES")
    assert fact["target"] == "KV cache" and fact["valid_at"]
    assert memory.search("does DBA shrink the KV cache", k=1)["hits"][0]["text"].endswith(NOTE)


def test_scripted_graphiti_llm_extracts_note_facts(tmp_path: Path) -> None:
    llm = ScriptedGraphitiLlm()
    with Memory(tmp_path, llm=llm) as memory:
        check_extracted(memory, memory.add_note(NOTE, title="review", extract=True))
    assert {"ExtractedEntities", "ExtractedEdges"} <= set(llm.asked)


class Scripted(BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/chat/completions that answers by the JSON schema named in the prompt."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.endswith("/embeddings"):
            return self.reply({"object": "list", "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1},
                               "data": [{"object": "embedding", "index": i, "embedding": embedding(text)}
                                        for i, text in enumerate(body["input"])]})
        prompt = body["messages"][-1]["content"]
        schema = json.loads(prompt.rsplit("Answer with one JSON object of this schema: ", 1)[1])
        content = json.dumps(answer(schema.get("title", "")))
        self.reply({"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                 "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})

    def reply(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def embedding(text: str) -> list[float]:
    """A deterministic 32-dimensional bag-of-words vector (the scripted server's embedding model)."""
    vector = [0.0] * 32
    for word in text.lower().split():
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % 32] += 1.0
    return vector


@pytest.fixture
def openai_server() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_litellm_path_extracts_through_a_local_openai_compatible_server(tmp_path: Path, openai_server: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "scripted-server-needs-no-key")  # the provider's own key convention
    config = WorkspaceConfig(llm=LlmSettings(model="openai/scripted-extractor", api_base=openai_server))
    with Memory(tmp_path, config) as memory:
        result = memory.add_note(NOTE, title="review", extract=True)
        check_extracted(memory, result)
    cost = result["extraction"]["cost"]
    assert cost.startswith("openai/scripted-extractor: ") and "LLM calls" in cost and "cost unknown" in cost


def test_changing_the_embedder_refuses_until_reembedded(tmp_path: Path, openai_server: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from caramba.memory.errors import MemoryUnavailable
    from caramba.memory.runfacts import RunFacts
    from caramba.workspace.config import MemorySettings

    monkeypatch.setenv("OPENAI_API_KEY", "scripted-server-needs-no-key")
    run = RunFacts("dba-s0-0000aaaa", "attn", "dba", "s0", "succeeded", finished="2026-11-28T08:00:00+00:00",
                   metrics={"val_perplexity": 9.5}, components=["caramba.engine.model.layers.attention_decoupled.DecoupledAttention"])
    with Memory(tmp_path) as memory:
        memory.record_facts([run])
        memory.add_note(NOTE, title="review")
    remote = WorkspaceConfig(memory=MemorySettings(embedder="openai/scripted-embedder", embed_api_base=openai_server))
    with Memory(tmp_path, remote) as memory:
        with pytest.raises(MemoryUnavailable, match="--reembed") as refused:
            memory.search("KV cache")
        assert "all-MiniLM-L6-v2" in str(refused.value) and "litellm:openai/scripted-embedder (dim 32)" in str(refused.value)
        with pytest.raises(MemoryUnavailable, match="--reembed"):
            memory.timeline()
    with Memory(tmp_path, remote) as memory:
        done = memory.reembed()
        assert done["chunks"] == 3 and done["graph_vectors"] > 0
        assert memory.search("does DBA halve the KV cache", k=1)["hits"][0]["text"].endswith(NOTE)
        assert memory.timeline()["events"][0]["run_id"] == "dba-s0-0000aaaa"
        assert memory.stats()["embedder"] == "litellm:openai/scripted-embedder (dim 32)"
