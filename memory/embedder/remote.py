"""Any embedding model LiteLLM serves (OpenAI, Azure, Bedrock, Ollama, an OpenAI-compatible server)."""

from __future__ import annotations

import logging

import numpy as np

from caramba.memory.errors import MemoryUnavailable

BATCH = 128
log = logging.getLogger("caramba.memory")


class LiteLLMEmbedder:
    """Embeds through ``litellm.embedding``; the dimension is learned from the first answer."""

    def __init__(self, model: str, api_base: str | None = None) -> None:
        """Use LiteLLM model ``model`` (``provider/name``), optionally at ``api_base``."""
        self.model, self.api_base = model, api_base
        self.dim = len(self._call(["dimension probe"])[0])
        self.identity = f"litellm:{model} (dim {self.dim})"
        log.info("memory embedder: %s", self.identity)

    def _call(self, texts: list[str]) -> list[list[float]]:
        import litellm
        import openai

        try:
            response = litellm.embedding(model=self.model, input=texts, api_base=self.api_base)
        except openai.OpenAIError as error:  # LiteLLM's provider errors derive from OpenAI's
            raise MemoryUnavailable(f"embedding model {self.model} failed: {error}; check memory.embedder "
                                    "and the provider's API key") from None
        return [item["embedding"] for item in response.data]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Encode ``texts`` in batches of 128; unit-length float32 rows."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            rows.extend(self._call(texts[start:start + BATCH]))
        array = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        return array / np.maximum(norms, 1e-12)
