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

from pydantic import Field, model_validator

from caramba.engine.manifest.paths import InputDir, InputFile, RunFolder
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


class PaperWriteProcess(ProcessSettings):
    """A LaTeX paper written from runs by the writer persona, built with every number traced
    to its run, reviewed by the reviewer persona and revised (docs/agents.md, paper_write)."""

    type: Literal["paper_write"] = "paper_write"
    name: str = Field(default="paper", description="process name")
    session: InputDir | None = Field(default=None, description="a development session folder to write about")
    manifest: InputFile | None = Field(default=None, description="a comparison manifest whose runs are in the store")
    runs: list[str] | None = Field(default=None, min_length=1, description="run ids (the run store's) to write about")
    notes: InputFile | None = Field(default=None, description="a text file of notes the writer reads")
    bib: InputFile | None = Field(default=None, description="a BibTeX file: the only keys the paper may cite")
    template: InputFile | None = Field(default=None, description="a LaTeX template that \\input{results} (default: build/templates/paper.tex)")
    rounds: int = Field(default=1, ge=1, description="review rounds (fewer when the overall score stops rising)")
    output_dir: RunFolder = Field(default="paper", description="output folder, relative to the run directory")

    @model_validator(mode="after")
    def _one_source(self) -> "PaperWriteProcess":
        given = [k for k in ("session", "manifest", "runs") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of session, manifest, runs (got {', '.join(given) or 'none'})")
        return self


class DevelopmentProcess(ProcessSettings):
    """An experiment loop: personas propose manifest variants, which are validated, piloted, run with seeds,
    analysed and searched best-first until the goal or a budget is reached."""

    type: Literal["development"] = "development"
    name: str = Field(default="development", description="process name")
    goal: str = Field(min_length=1, description="the question the loop answers")
    start: str = Field(min_length=1, description="the starting manifest: a .yml file relative to the workspace, or a preset name")
    metric: str = Field(default="val_loss", description="the goal's metric: val_loss, train_loss or <benchmark id>.<metric>")
    direction: Literal["min", "max"] = Field(default="min", description="min: lower is better; max: higher is better")
    target: float | None = Field(default=None, description="stop once the best node's 95% CI is beyond this value")
    seeds: int = Field(default=3, ge=1, description="full runs (seeds) per variant")
    iterations: int = Field(default=3, ge=1, description="most iterations (expansions of the tree)")
    patience: int = Field(default=2, ge=1, description="stop after this many iterations without a significant improvement")
    compute_steps: int | None = Field(default=None, gt=0, description="compute budget in total training steps (pilots and seeds counted)")
    compute_gpu_hours: float | None = Field(default=None, gt=0, description="compute budget in GPU-hours estimated from the dry run's FLOPs")
    wall_s: float | None = Field(default=None, gt=0, description="wall-time budget in seconds")
    pilot_fraction: float = Field(default=0.1, gt=0, lt=1, description="a pilot trains this fraction of a run's steps")
    output_dir: RunFolder = Field(default="development", description="output folder, relative to the run directory")
