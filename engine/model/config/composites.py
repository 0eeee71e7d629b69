"""Configs of composite topologies: parallel branches, branching with a projection,
weight-shared cycles and chunked recurrence."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from caramba.engine.model.config.base import BuildFn, DimFlow
from caramba.engine.model.config.topologies import TopologyConfig


class ParallelTopologyConfig(TopologyConfig):
    """``ParallelTopology``: every child sees the same x; outputs are combined by ``sum``,
    ``mean`` (all children must agree on the width) or ``concat`` on the feature dim."""

    type: Literal["ParallelTopology"] = "ParallelTopology"
    combine: Literal["sum", "mean", "concat"] = Field(default="sum", description="how branch outputs are merged")

    def branches(self, flow: DimFlow, d_in: int | None, path: str) -> list[int | None]:
        """Each child's output width for input width ``d_in``."""
        return [child.infer(flow, d_in, f"{path}.layers[{i}]") for i, child in enumerate(self.layers)]

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Each branch sees the input; output: the sum of branch widths (concat) or their common width."""
        widths = self.branches(flow, d_in, path)
        if any(w is None for w in widths):
            return None
        if self.combine == "concat":
            return sum(w for w in widths if w is not None)
        if len(set(widths)) > 1:
            flow.error(f"{path}.layers", f"combine: {self.combine} needs equal branch widths, got {widths}",
                       "make every branch output the same width, or use combine: concat")
            return None
        return widths[0]


class BranchingTopologyConfig(ParallelTopologyConfig):
    """``BranchingTopology``: branches concatenated on the feature dim, then a linear
    projection to ``d_out`` (the Inception / multi-branch pattern)."""

    type: Literal["BranchingTopology"] = "BranchingTopology"  # type: ignore[assignment]
    combine: Literal["concat"] = Field(default="concat", description="always concat")
    d_out: int = Field(ge=1, description="width after the projection")
    bias: bool = Field(default=False, description="bias of the projection")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Check every branch on the input; output: ``d_out`` (the projection of the concatenation)."""
        self.branches(flow, d_in, path)
        return self.d_out

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The branches built, the concatenated width they add up to, and the projection's width and bias."""
        flow = DimFlow()
        widths = self.branches(flow, None, "")
        if any(w is None for w in widths):
            raise ValueError("BranchingTopology needs every branch's output width to be known")
        return {"layers": [build(c) for c in self.layers], "d_concat": sum(w for w in widths if w is not None),
                "d_out": self.d_out, "bias": self.bias}


class CyclicTopologyConfig(TopologyConfig):
    """``CyclicTopology``: ONE block (the stacked layers) applied ``n_cycles`` times with
    shared weights (Universal Transformer style, Dehghani et al., 2019)."""

    type: Literal["CyclicTopology"] = "CyclicTopology"
    n_cycles: int = Field(default=2, ge=1, description="applications of the shared block")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Chain the block; with more than one cycle it must preserve the width."""
        d_out = self.chain(flow, d_in, path)
        if self.n_cycles > 1 and d_in is not None and d_out is not None and d_out != d_in:
            flow.error(f"{path}.layers", f"a cycled block must preserve the width: {d_in} in, {d_out} out",
                       "make the block shape-preserving or set n_cycles: 1")
        return d_out

    def kv_values_per_token(self) -> int:
        """Each cycle caches its own keys/values: the block's values per token times ``n_cycles``."""
        return self.n_cycles * super().kv_values_per_token()


class RecurrentTopologyConfig(TopologyConfig):
    """``RecurrentTopology``: the stacked layers run over the sequence in chunks of
    ``chunk_size`` tokens; attention keys/values and SSM states are carried from chunk to
    chunk (so the result equals one pass over the whole sequence, with bounded activations)."""

    type: Literal["RecurrentTopology"] = "RecurrentTopology"
    chunk_size: int = Field(ge=1, description="tokens per chunk")
    detach: bool = Field(default=False, description="stop gradients between chunks (truncated BPTT)")

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Chain the layers of one chunk step (the carried caches and states do not change widths)."""
        return self.chain(flow, d_in, path)
