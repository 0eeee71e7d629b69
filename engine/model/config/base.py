"""Base classes of layer/topology configs and the dimension-flow checker they report to.

Every config knows two things beyond its fields:

* ``infer(flow, d_in, path)``: given the feature dimension flowing in (``None`` when
  unknown), report inconsistencies to ``flow`` and return the dimension flowing out.
  The compiler chains these through topologies, so a residual block that changes shape,
  a head whose ``d_in`` disagrees with the model width or ``n_heads`` not dividing
  ``d_model`` is caught before anything is built.
* ``build_kwargs(build)``: the flat constructor arguments of its module (children
  already built through ``build`` for topologies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A pydantic model that rejects unknown keys: every manifest model derives from it.

    Schemas are built on first use (``defer_build``), once every registered type and the
    unions that name them exist, which keeps ``caramba validate`` fast.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


@dataclass
class DimIssue:
    """One dimension-flow problem: a relative field path, a message and a fix hint."""

    path: str
    message: str
    hint: str


@dataclass
class DimFlow:
    """Collects dimension-flow issues while configs are walked (all of them, not the first)."""

    issues: list[DimIssue] = field(default_factory=list)

    def error(self, path: str, message: str, hint: str) -> None:
        """Record one issue at ``path`` (a manifest field path such as ``layers[0].n_heads``)."""
        self.issues.append(DimIssue(path, message, hint))

    def expect(self, path: str, name: str, got: int, d_in: int | None) -> None:
        """Report when a declared input width ``got`` disagrees with the incoming width."""
        if d_in is not None and got != d_in:
            self.error(
                f"{path}.{name}",
                f"{name}={got} but the feature dimension flowing into this layer is {d_in}",
                f"set {name}: {d_in} (or change the layer before it to output {got})",
            )


BuildFn = Callable[[BaseModel], Any]


class LayerConfig(StrictModel):
    """Config of a leaf layer. Subclasses add ``type: Literal["Name"]`` and their fields."""

    type: str

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Check this layer against the incoming width; return the outgoing width."""
        return d_in

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """Flat keyword arguments for the module's constructor."""
        return self.model_dump(exclude={"type"})

    def children(self) -> list["LayerConfig"]:
        """Nested configs (none for a leaf layer)."""
        return []

    def kv_values_per_token(self) -> int:
        """Values this layer caches per token during decoding (0 for cache-free layers)."""
        return 0
