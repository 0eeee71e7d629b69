"""Free text into the memory graph: Graphiti episodes with LLM extraction through LiteLLM.

Transcripts, analyses and notes are searchable as chunks with no model at all; turning
them into graph entities and facts needs an LLM. :func:`llm_client` gives Graphiti a
client that calls the workspace's ``llm.model`` through LiteLLM (``llm.api_base`` for an
OpenAI-compatible server), with at most ``memory.llm_concurrency`` calls in flight, and
adds up tokens and cost; with no model it is ``None`` (Graphiti then gets
:class:`caramba.memory.clients.NoModel`, which raises :class:`NeedsModel`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from graphiti_core.llm_client.client import LLMClient
from graphiti_core.llm_client.config import LLMConfig

from caramba.memory.errors import MemoryUnavailable, NeedsModel
from caramba.workspace.config import WorkspaceConfig

if TYPE_CHECKING:  # pragma: no cover - typing only
    from caramba.memory.api import Memory

log = logging.getLogger("caramba.memory")


class LiteLLMClient(LLMClient):
    """Graphiti's LLM calls answered by ``litellm.acompletion`` in JSON mode."""

    def __init__(self, model: str, api_base: str | None, concurrency: int) -> None:
        super().__init__(LLMConfig(model=model, base_url=api_base))
        self.model, self.api_base = model, api_base
        self.limit = asyncio.Semaphore(concurrency)
        self.calls, self.tokens, self.cost = 0, 0, 0.0
        self.cost_known = True

    async def _generate_response(self, messages: Any, response_model: Any = None, max_tokens: int = 4096,
                                 model_size: Any = None, **kwargs: Any) -> dict[str, Any]:
        import litellm
        import openai

        chat = [{"role": m.role, "content": m.content} for m in messages]
        if response_model is not None:
            schema = json.dumps(response_model.model_json_schema())
            chat[-1] = {**chat[-1], "content": f"{chat[-1]['content']}\n\nAnswer with one JSON object of this schema: {schema}"}
        async with self.limit:
            try:
                response = await litellm.acompletion(model=self.model, messages=chat, api_base=self.api_base,
                                                     response_format={"type": "json_object"}, max_tokens=max_tokens)
            except openai.OpenAIError as error:  # LiteLLM's provider errors derive from OpenAI's
                raise MemoryUnavailable(f"the LLM {self.model} failed while extracting facts: {error}. Check llm.model, "
                                        "llm.api_base and the provider's API key (e.g. OPENAI_API_KEY)") from None
        self.calls += 1
        usage = getattr(response, "usage", None)
        self.tokens += int(getattr(usage, "total_tokens", 0) or 0)
        price = litellm.model_cost.get(self.model.split("/", 1)[-1]) or litellm.model_cost.get(self.model)
        if price and usage is not None:
            self.cost += (usage.prompt_tokens * price.get("input_cost_per_token", 0.0)
                          + usage.completion_tokens * price.get("output_cost_per_token", 0.0))
        else:
            self.cost_known = False
        text = response.choices[0].message.content or "{}"
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise MemoryUnavailable(f"{self.model} answered text that is not JSON ({error}): {text[:200]!r}") from None

    def cost_line(self) -> str:
        """``N calls, T tokens, $C`` (cost unknown for models without a LiteLLM price)."""
        cost = f"${self.cost:.4f}" if self.cost_known else "cost unknown (no LiteLLM price for this model)"
        return f"{self.model}: {self.calls} LLM calls, {self.tokens} tokens, {cost}"


def llm_client(config: WorkspaceConfig) -> LiteLLMClient | None:
    """The Graphiti LLM client of the workspace's ``llm.model``, or None when none is configured."""
    if not config.llm.model:
        return None
    return LiteLLMClient(config.llm.model, config.llm.api_base, config.memory.llm_concurrency)


def extract_episodes(memory: "Memory", episodes: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    """Add ``(name, text, source description, ISO time)`` episodes to the graph with LLM extraction.

    At most ``memory.llm_concurrency`` episodes are processed at once; a fact the LLM
    gives no date is valid from the episode's time. Returns the
    entities and facts extracted and the cost line. Raises :class:`NeedsModel` with no model.
    """
    from graphiti_core.nodes import EpisodeType

    from caramba.memory.triplets import stamp

    graph = memory.graph
    client = graph.graphiti.llm_client
    if not isinstance(client, LLMClient) or type(client).__name__ == "NoModel":
        raise NeedsModel("adding free text to the memory graph")
    limit = asyncio.Semaphore(memory.config.memory.llm_concurrency)

    async def one(name: str, text: str, source: str, when: str) -> Any:
        async with limit:
            return await graph.graphiti.add_episode(name=name, episode_body=text, source_description=source,
                                                    reference_time=stamp(when), source=EpisodeType.text,
                                                    group_id=graph.group)

    async def every() -> list[Any]:
        return await asyncio.gather(*(one(*episode) for episode in episodes))

    results = graph.loop.run(every())
    # A fact the text does not date holds from when it was said (the episode's time).
    undated = [{"uuid": edge.uuid, "at": stamp(when).isoformat()} for result, (_, _, _, when) in zip(results, episodes)
               for edge in result.edges if edge.valid_at is None]
    if undated:
        graph.graph.query("UNWIND $rows AS row MATCH ()-[e:RELATES_TO {uuid: row.uuid}]->() SET e.valid_at = row.at",
                          {"rows": undated})
    graph.db.save()
    facts = [edge.fact for result in results for edge in result.edges]
    entities = sorted({node.name for result in results for node in result.nodes})
    cost = client.cost_line() if isinstance(client, LiteLLMClient) else f"{type(client).__name__}: cost not tracked"
    log.info("memory extraction: %s", cost)
    return {"episodes": len(results), "entities": entities, "facts": facts, "cost": cost}
