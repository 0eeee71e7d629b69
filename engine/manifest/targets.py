"""``targets``: experiment targets (train/verify/benchmark) and process targets (agents).

Process configs live in ``engine/manifest/processes.py``; only registered (implemented)
process types are accepted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field

from caramba.engine.manifest.benchmarks import Benchmark
from caramba.engine.manifest.init_from import InitFromConfig
from caramba.engine.manifest.paths import OutputDir
from caramba.engine.manifest.train import TrainConfig
from caramba.engine.manifest.verify import VerifyConfig
from caramba.engine.model.config.base import StrictModel
from caramba.engine.registry import catalog as _catalog  # noqa: F401  (fills the registry first)
from caramba.engine.manifest.processes import BrainstormProcess, ProcessSettings  # noqa: F401  (re-exported)
from caramba.engine.registry.unions import UNIONS

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


class Run(StrictModel):
    """One training run. A list of seeds expands to one run per seed (ids ``<id>-s<seed>``); a run
    chained to a seeded run (``init_from``) starts each seed from that run's same seed."""

    id: str = Field(pattern=NAME_PATTERN, description="unique run id within the target")
    mode: Literal["train"] = Field(default="train", description="run mode")
    exp: str | None = Field(default=None, description="experiment name for logging")
    seed: int | list[int] = Field(default=0, description="random seed, or a list (one run each, ids like global-s1; a run "
                                   "chained to a seeded one by init_from starts each seed from its same seed)")
    steps: int = Field(ge=1, description="optimiser steps")
    init_from: InitFromConfig | None = Field(default=None, description="start from these weights (default: fresh init)")
    expected: dict[str, Any] = Field(default_factory=dict, description="values the run is expected to show (recorded)")
    verify: VerifyConfig | None = Field(default=None, description="gate after training")
    export_hf: OutputDir | None = Field(default=None, description="after the run succeeds, write its final checkpoint here "
                                        "as a Hugging Face folder (config.json + model.safetensors, like `caramba export-hf`); "
                                        "another target may start from it (teacher: {hf: …}, init_from: {hf: …}) and then "
                                        "runs after this one")
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


ProcessConfig = UNIONS["process"]  # the registered process types (engine/manifest/processes.py)


def _registered_process(value: Any) -> Any:
    """Refuse a process type that has no implementation, naming the registered ones."""
    from pydantic_core import PydanticCustomError

    from caramba.engine.registry.store import REGISTRY

    known = REGISTRY.names("process")
    if isinstance(value, dict) and "type" in value and value["type"] not in known:
        raise PydanticCustomError("union_tag_invalid", "unknown process type {tag}",
                                  {"discriminator": "'type'", "tag": str(value["type"]),
                                   "expected_tags": ", ".join(f"'{k}'" for k in known)})
    return value


class ProcessTarget(StrictModel):
    """An agent workflow; ``team`` maps roles to persona names (personas/*.yml)."""

    type: Literal["process"] = "process"
    name: str = Field(pattern=NAME_PATTERN, description="unique target name")
    description: str = Field(default="", description="what this process does")
    team: dict[str, Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(default_factory=dict, description="role → persona name (personas/<name>.yml; a name, not a path)")
    process: Annotated[ProcessConfig, BeforeValidator(_registered_process)]


Target = Annotated[Union[ExperimentTarget, ProcessTarget], Field(discriminator="type")]
