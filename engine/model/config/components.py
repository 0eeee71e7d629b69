"""Configs of the non-model components a target references by ``ref``: tasks, data,
systems, objectives and trainers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal

from pydantic import BaseModel, Field

from caramba.engine.manifest.paths import TokenFilePath
from caramba.engine.model.config.base import StrictModel
from caramba.engine.model.config.init import SystemConfig

if TYPE_CHECKING:
    ModelConfig = StrictModel


class EmptyConfig(StrictModel):
    """A component that takes no configuration (any key is an error)."""


class TokenDatasetConfig(StrictModel):
    """``dataset.tokens``: a flat file of token ids (.npy or raw .bin), read through memmap."""

    path: TokenFilePath = Field(min_length=1, description="token file (.npy, or .bin with `dtype`), relative to the manifest")
    block_size: int = Field(ge=1, description="tokens per training sequence")
    dtype: Literal["uint16", "uint32", "int32", "int64"] | None = Field(
        default=None, description="element type of a .bin file (a .npy file carries its own)")


class LanguageModelSystemConfig(SystemConfig):
    """``system.language_model``: a network mapping token ids to next-token logits.

    Weights start GPT-2-style unless ``init`` says otherwise (see ``config/init.py``).
    """

    default_init: ClassVar[str] = "gpt2"

    model: "ModelConfig" = Field(description="the network (e.g. TransformerModel)")

    def build_kwargs(self, build: Callable[[BaseModel], Any]) -> dict[str, Any]:
        """The system factory receives the built network."""
        return {"model": build(self.model)}


class NextTokenObjectiveConfig(StrictModel):
    """``objective.next_token_ce``: cross-entropy of each position's logits against the next token.

    Auxiliary losses reported by layers (MoE load balancing) are added with ``aux_weight``.
    """

    aux_weight: float = Field(default=0.01, ge=0.0, description="weight of auxiliary losses (MoE balance)")
    ignore_index: int = Field(default=-100, description="label value that contributes no loss")
