"""Text embedders: the bundled offline model by default, any LiteLLM embedding model when configured.

An embedder has an ``identity`` (model, version, dimension): the chunk dataset records the
identity it was built with and refuses another one (``caramba memory sync --reembed``
re-embeds everything), so vectors of two models are never mixed.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from caramba.workspace.config import MemorySettings


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, many at a time."""

    identity: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a ``(len(texts), dim)`` float32 array of L2-normalised vectors."""
        ...


def make_embedder(settings: MemorySettings) -> Embedder:
    """The embedder ``settings`` name: a LiteLLM model, or the bundled local model (cached per process)."""
    if settings.embedder:
        from caramba.memory.embedder.remote import LiteLLMEmbedder

        return LiteLLMEmbedder(settings.embedder, settings.embed_api_base)
    from caramba.memory.embedder.local import local_embedder

    return local_embedder()
