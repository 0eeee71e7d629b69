"""The manifest root model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from caramba.engine.manifest.comparison import ComparisonConfig
from caramba.engine.manifest.defaults import Defaults
from caramba.engine.manifest.targets import ExperimentTarget, NAME_PATTERN, Target
from caramba.engine.model.config.base import StrictModel


class Manifest(StrictModel):
    """A complete experiment definition (schema version 2).

    ``vars`` and ``extends`` are resolved before this model sees the document, so
    ``vars`` here is informational (kept for provenance in the resolved manifest).
    """

    version: Literal[2] = Field(description="schema version, always 2")
    name: str = Field(default="experiment", pattern=NAME_PATTERN, description="experiment name (artifact folders)")
    notes: str = Field(default="", description="what this experiment is about")
    vars: dict[str, Any] = Field(default_factory=dict, description="variables for ${substitution}")
    defaults: Defaults = Field(default_factory=Defaults)
    targets: list[Target] = Field(min_length=1, description="experiment and process targets")
    entrypoints: dict[str, str] = Field(default_factory=dict, description="name → target name; `default` is used without --target")
    apples_to_apples: bool = Field(default=False, description="guarantee that every run here is comparable")
    comparison: ComparisonConfig | None = Field(default=None, description="the arms these targets form, the baseline and "
                                                "the primary metric (`caramba run` runs every arm, then compares them)")

    def target(self, name: str) -> Target:
        """The target called ``name`` (entrypoint names resolve first)."""
        name = self.entrypoints.get(name, name)
        for target in self.targets:
            if target.name == name:
                return target
        raise KeyError(name)

    def experiments(self) -> list[ExperimentTarget]:
        """The experiment targets, in order."""
        return [t for t in self.targets if isinstance(t, ExperimentTarget)]
