"""Configs of embedders: how raw inputs become the first hidden states."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import StrictModel


class TokenEmbedderConfig(StrictModel):
    """``token``: a learned table of ``vocab_size`` × ``d_model`` token embeddings."""

    type: Literal["token"] = "token"
    vocab_size: int = Field(ge=1, description="number of token ids")
    d_model: int = Field(ge=1, description="embedding width")

    @property
    def d_out(self) -> int:
        """Width of the embeddings handed to the topology."""
        return self.d_model
