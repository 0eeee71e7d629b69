"""The plan of one target, as data (``to_json``) — rendering lives in ``render.py``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LayerCost:
    """Parameters of one registered layer module in the built model."""

    name: str
    type: str
    params: int


@dataclass
class RunPlan:
    """One run: its settings, the tokens it consumes and its phases in order."""

    id: str
    seed: int
    steps: int
    batch_size: int
    block_size: int
    tokens: int
    device: str
    dtype: str
    phases: list[str]
    memory_bytes: dict[str, int]  # per rank (``ranks.py``)
    flops_per_token: dict[str, float]
    ranks: int = 1
    strategy: str = "single"
    device_memory_bytes: int | None = None


@dataclass
class TargetPlan:
    """Everything the dry run knows about one target."""

    target: str
    type: str
    resolved: dict[str, Any]
    params_total: int = 0
    params_trainable: int = 0
    init: str = ""
    layers: list[LayerCost] = field(default_factory=list)
    kv_bytes_per_token: dict[str, float] = field(default_factory=dict)
    runs: list[RunPlan] = field(default_factory=list)
    benchmarks: list[str] = field(default_factory=list)
    kernel_paths: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    notes: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # runs that cannot fit the devices
    process: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_total(self) -> int:
        """Tokens consumed by all runs together."""
        return sum(run.tokens for run in self.runs)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (what ``--format json`` and the MCP tool return)."""
        data = asdict(self)
        data["tokens_total"] = self.tokens_total
        return data
