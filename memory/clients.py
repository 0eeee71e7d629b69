"""Graphiti's three pluggable clients, backed by caramba's embedder and configured LLM.

* :class:`EmbedderAdapter`: Graphiti's ``EmbedderClient`` over a memory :class:`Embedder`.
* :class:`EmbeddingRanker`: Graphiti's ``CrossEncoderClient`` ranking passages by cosine
  similarity to the query with the same embedder (no LLM, no download).
* :class:`NoModel`: the ``LLMClient`` used when no model is configured: any call raises
  :class:`NeedsModel`, so structured writes (which never call it) work and free-text
  extraction says what it needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from graphiti_core.cross_encoder.client import CrossEncoderClient
from graphiti_core.embedder.client import EmbedderClient
from graphiti_core.llm_client.client import LLMClient

from caramba.memory.embedder import Embedder
from caramba.memory.errors import NeedsModel


class EmbedderAdapter(EmbedderClient):
    """Graphiti embedder calls answered by a memory embedder."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    async def create(self, input_data: Any) -> list[float]:
        """Embed one text (Graphiti passes a string or a one-item list)."""
        text = input_data if isinstance(input_data, str) else str(list(input_data)[0])
        return self.embedder.embed([text])[0].tolist()

    async def create_batch(self, input_data_list: list[str]) -> list[list[float]]:
        """Embed many texts in one batch."""
        return self.embedder.embed(list(input_data_list)).tolist()


class EmbeddingRanker(CrossEncoderClient):
    """Ranks passages by cosine similarity to the query."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    async def rank(self, query: str, passages: list[str]) -> list[tuple[str, float]]:
        """``(passage, score)`` pairs, best first."""
        if not passages:
            return []
        vectors = self.embedder.embed([query, *passages])
        scores = vectors[1:] @ vectors[0]
        order = np.argsort(-scores)
        return [(passages[i], float(scores[i])) for i in order]


class NoModel(LLMClient):
    """The LLM client when ``llm.model`` is not set: every call raises :class:`NeedsModel`."""

    def __init__(self) -> None:
        super().__init__(None)

    async def _generate_response(self, messages: Any, response_model: Any = None, max_tokens: int = 0,
                                 model_size: Any = None, **kwargs: Any) -> dict[str, Any]:
        raise NeedsModel("adding free text to the memory graph")
