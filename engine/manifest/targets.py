"""``targets``: experiment targets (train/verify/benchmark) and process targets (agents)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field

from caramba.engine.manifest.benchmarks import Benchmark
from caramba.engine.manifest.init_from import InitFromConfig
from caramba.engine.manifest.train import TrainConfig
from caramba.engine.manifest.verify import VerifyConfig
from caramba.engine.manifest.paths import RunFolder
from caramba.engine.model.config.base import StrictModel
from caramba.engine.registry import catalog as _catalog  # noqa: F401  (fills the registry first)
from caramba.engine.registry.unions import UNIONS

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


class Run(StrictModel):
    """One training run. A list of seeds expands to one run per seed (ids ``<id>-s<seed>``)."""

    id: str = Field(pattern=NAME_PATTERN, description="unique run id within the target")
    mode: Literal["train"] = Field(default="train", description="run mode")
    exp: str | None = Field(default=None, description="experiment name for logging")
    seed: int | list[int] = Field(default=0, description="random seed, or a list (one run each)")
    steps: int = Field(ge=1, description="optimiser steps")
    init_from: InitFromConfig | None = Field(default=None, description="start from these weights (default: fresh init)")
    expected: dict[str, Any] = Field(default_factory=dict, description="values the run is expected to show (recorded)")
    verify: VerifyConfig | None = Field(default=None, description="gate after training")
    train: TrainConfig


class ExperimentTarget(StrictModel):
    """Train, verify and benchmark a model system."""

    type: Literal["experiment"] = "experiment"
    name: str = Field(pattern=NAME_PATTERN, description="unique target name")
    description: str = Field(default="", description="what this target does")
    backend: Literal["torch"] = Field(default="torch", description="execution backend")
    task: UNIONS["task"]
    data: UNIONS["dataset"]
    system: UNIONS["system"]
    objective: UNIONS["objective"]
    trainer: UNIONS["trainer"]
    runs: list[Run] = Field(min_length=1, description="runs, executed in order")
    benchmarks: list[Benchmark] = Field(default_factory=list, description="measurements after the runs")


class BrainstormProcess(StrictModel):
    """A moderated multi-persona discussion that ends in validated experiment manifests."""

    type: Literal["brainstorm"] = "brainstorm"
    name: str = Field(default="brainstorm", description="process name")
    topic: str = Field(min_length=1, description="the research question")
    rounds: int = Field(default=2, ge=1, description="discussion rounds")
    model: str | None = Field(default=None, description="LiteLLM model string for every persona (overrides persona files)")
    budget_usd: float | None = Field(default=None, gt=0, description="stop cleanly once the session costs this much")
    output_dir: RunFolder = Field(default="brainstorm", description="output folder, relative to the run directory")


class DevelopmentProcess(StrictModel):
    """A developer persona turns an accepted proposal into a validated manifest and runs it."""

    type: Literal["development"] = "development"
    name: str = Field(default="development", description="process name")
    goal: str = Field(min_length=1, description="what to build or test")
    output_dir: RunFolder = Field(default="development", description="output folder")


class PaperWriteProcess(StrictModel):
    """A writer persona drafts a paper from runs' results, citing each number's run."""

    type: Literal["paper_write"] = "paper_write"
    name: str = Field(default="paper_write", description="process name")
    writer: str = Field(default="writer", description="team role that writes")
    output_dir: RunFolder = Field(default="paper", description="output folder")


ProcessConfig = Annotated[Union[BrainstormProcess, DevelopmentProcess, PaperWriteProcess], Field(discriminator="type")]


class ProcessTarget(StrictModel):
    """An agent workflow; ``team`` maps roles to persona names (personas/*.yml)."""

    type: Literal["process"] = "process"
    name: str = Field(pattern=NAME_PATTERN, description="unique target name")
    description: str = Field(default="", description="what this process does")
    team: dict[str, Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(default_factory=dict, description="role → persona name (personas/<name>.yml; a name, not a path)")
    process: ProcessConfig


Target = Annotated[Union[ExperimentTarget, ProcessTarget], Field(discriminator="type")]
