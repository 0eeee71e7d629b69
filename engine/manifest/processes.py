"""Process configs: the ``process:`` block of a ``type: process`` target.

Each implemented process registers its config here and in the registry
(``engine/registry/catalog.py``: kind ``process``, implementation
``caramba.processes.<name>:run_target``), and the manifest schema accepts exactly the
registered types: a process type that has no implementation yet is unknown to the
schema and refused at validation, with the list of valid types.

:class:`ProcessSettings` holds what every process shares: the model override and its
server, the budget (USD, or tokens for unpriced models) and an explicit price.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from caramba.engine.manifest.paths import RunFolder
from caramba.engine.model.config.base import StrictModel


class ProcessSettings(StrictModel):
    """Settings every process has (model, server, budget, price, output folder)."""

    model: str | None = Field(default=None, description="LiteLLM model string for every persona (overrides persona files)")
    api_base: str | None = Field(default=None, description="OpenAI-compatible server URL for `model`")
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                    description="name of the environment variable holding the key for `model` (never the key)")
    budget_usd: float | None = Field(default=None, gt=0, description="stop cleanly before a model call would exceed this cost")
    budget_tokens: int | None = Field(default=None, gt=0, description="stop cleanly before a model call would exceed this many tokens")
    price_per_mtok: tuple[float, float] | None = Field(default=None, description="[input, output] USD per million tokens "
                                                                                 "for a model LiteLLM cannot price")


class BrainstormProcess(ProcessSettings):
    """A moderated multi-persona discussion that ends in validated experiment manifests."""

    type: Literal["brainstorm"] = "brainstorm"
    name: str = Field(default="brainstorm", description="process name")
    topic: str = Field(min_length=1, description="the research question")
    rounds: int = Field(default=2, ge=1, description="discussion rounds")
    output_dir: RunFolder = Field(default="brainstorm", description="output folder, relative to the run directory")
