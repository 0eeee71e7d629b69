"""Configs of embedders: how raw inputs become the first hidden states."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.model.config.base import DimFlow, StrictModel


class TokenEmbedderConfig(StrictModel):
    """``token``: a learned table of ``vocab_size`` × ``d_model`` token embeddings, plus
    optional absolute positions (``learned`` as in GPT-2, or ``sinusoidal``) up to ``max_seq_len``."""

    type: Literal["token"] = "token"
    vocab_size: int = Field(ge=1, description="number of token ids")
    d_model: int = Field(ge=1, description="embedding width")
    positions: Literal["none", "learned", "sinusoidal"] = Field(default="none", description="absolute position embeddings")
    max_seq_len: int | None = Field(default=None, ge=1, description="positions available (needed unless positions: none)")

    @property
    def d_out(self) -> int:
        """Width of the embeddings handed to the topology."""
        return self.d_model

    def infer(self, flow: DimFlow, path: str) -> None:
        """Positions need a table size."""
        if self.positions != "none" and self.max_seq_len is None:
            flow.error(f"{path}.max_seq_len", f"positions: {self.positions} needs max_seq_len", "add max_seq_len: <longest sequence>")


class PatchEmbedderConfig(StrictModel):
    """``patch``: images (B, C, H, W) cut into ``patch_size``² patches, each linearly
    projected to ``d_model`` (a strided convolution), plus a learned class token and learned
    positions (Dosovitskiy et al., 2021, "An Image is Worth 16x16 Words")."""

    type: Literal["patch"] = "patch"
    image_size: int = Field(ge=1, description="height = width of the input images")
    patch_size: int = Field(ge=1, description="side of a square patch")
    channels: int = Field(default=3, ge=1, description="input channels")
    d_model: int = Field(ge=1, description="embedding width")
    cls_token: bool = Field(default=True, description="prepend a learned [CLS] token")

    @property
    def d_out(self) -> int:
        """Width of the embeddings handed to the topology."""
        return self.d_model

    @property
    def n_tokens(self) -> int:
        """Patches per image (+1 with the class token)."""
        return (self.image_size // self.patch_size) ** 2 + int(self.cls_token)

    def infer(self, flow: DimFlow, path: str) -> None:
        """The patch size must tile the image."""
        if self.image_size % self.patch_size:
            flow.error(f"{path}.patch_size", f"patch_size={self.patch_size} does not divide image_size={self.image_size}",
                       "choose a patch size that tiles the image")
