"""Configs of the core topologies: how layers are composed.

``layers`` holds any layer or topology config (the ``NodeConfig`` union, built from the
registry by ``config/node.py`` once every type is registered).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from caramba.engine.model.config.base import BuildFn, DimFlow, LayerConfig

if TYPE_CHECKING:
    NodeConfig = LayerConfig


class TopologyConfig(LayerConfig):
    """A config that composes child ``layers``; children are built before the topology."""

    layers: list["NodeConfig"] = Field(min_length=1, description="child layers or topologies, in order")

    def children(self) -> list[LayerConfig]:
        """The topology's layers, in order."""
        return list(self.layers)

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The topology's own fields and its layers, built."""
        kwargs = self.model_dump(exclude={"type", "layers"})
        kwargs["layers"] = [build(child) for child in self.layers]
        return kwargs

    def chain(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Flow ``d_in`` through the children in order; return the last output width."""
        d = d_in
        for index, child in enumerate(self.layers):
            d = child.infer(flow, d, f"{path}.layers[{index}]")
        return d

    def kv_values_per_token(self) -> int:
        """The values per token its layers cache, summed."""
        return sum(child.kv_values_per_token() for child in self.layers)


class StackedTopologyConfig(TopologyConfig):
    """``StackedTopology``: apply the layers one after another (x → f_n(…f_1(x)))."""

    type: Literal["StackedTopology"] = "StackedTopology"

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Chain the layers: each one's output width is the next one's input."""
        return self.chain(flow, d_in, path)


class ResidualTopologyConfig(TopologyConfig):
    """``ResidualTopology``: x + f(x), with f the stacked layers; f must preserve the width."""

    type: Literal["ResidualTopology"] = "ResidualTopology"

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Chain the layers; the block must preserve the width (its input is added to its output)."""
        d_out = self.chain(flow, d_in, path)
        if d_in is not None and d_out is not None and d_out != d_in:
            flow.error(f"{path}.layers", f"a residual block must preserve the width: {d_in} in, {d_out} out",
                       "make the last layer of the block output the block's input width")
            return None
        return d_in if d_in is not None else d_out


class NestedTopologyConfig(TopologyConfig):
    """``NestedTopology``: the stacked layers repeated ``repeat`` times, each copy with its own weights."""

    type: Literal["NestedTopology"] = "NestedTopology"
    repeat: int = Field(default=1, ge=1, description="number of copies (each with fresh parameters)")

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The layers built ``repeat`` times (each repetition its own weights)."""
        return {"layers": [build(child) for _ in range(self.repeat) for child in self.layers]}

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Chain the layers; a block repeated more than once must preserve the width."""
        d_out = self.chain(flow, d_in, path)
        if self.repeat > 1 and d_in is not None and d_out is not None and d_out != d_in:
            flow.error(f"{path}.layers", f"a repeated block must preserve the width: {d_in} in, {d_out} out",
                       "set repeat: 1 or make the block shape-preserving")
        return d_out

    def kv_values_per_token(self) -> int:
        """Each repetition caches its own keys/values: the block's values per token times ``repeat``."""
        return self.repeat * super().kv_values_per_token()
