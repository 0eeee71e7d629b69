"""Config of ``GraphTopology``: a named-port DAG over a dict of tensors.

Each node reads one or more keys (``in``) and writes one or more keys (``out``). A node is
either an inline layer (``type: LinearLayer`` plus its fields) or an op: a ``torch.nn``
module by class name (``op: ReLU``, constructor kwargs in ``config``) or
``python:module:Symbol``, which is refused unless the workspace's ``python_allowlist``
(``caramba.yml``) holds a prefix of ``module``. Nodes may be listed in any order; the
validator sorts them, refusing cycles, keys nobody writes and keys written twice.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from caramba.engine.model.config.base import BuildFn, DimFlow, LayerConfig, StrictModel
from caramba.engine.model.config.init import SystemConfig

if TYPE_CHECKING:
    NodeConfig = LayerConfig

PORT_KEYS = ("id", "in", "inputs", "out", "op", "config")
# torch.nn modules a node may name; elementwise ones keep the width.
ELEMENTWISE_OPS = frozenset({
    "ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "ELU", "LeakyReLU", "Mish", "Softplus", "Hardswish", "Identity", "Dropout",
    "Softmax", "LogSoftmax", "SELU", "PReLU", "Hardtanh", "ReLU6", "CELU", "Softsign", "Tanhshrink",
})
TORCH_OPS = ELEMENTWISE_OPS | frozenset({
    "Linear", "Bilinear", "LayerNorm", "RMSNorm", "Flatten", "Unflatten", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "Embedding", "MultiheadAttention",
})


def _ports(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class GraphNodeConfig(StrictModel):
    """One node: ``id``, ``in`` keys, ``out`` keys and either an inline layer or an ``op``."""

    id: str = Field(min_length=1, description="unique node name")
    inputs: str | list[str] = Field(alias="in", description="key(s) read, passed positionally")
    out: str | list[str] = Field(description="key(s) written (a tuple output fills several)")
    op: str | None = Field(default=None, description="torch.nn class name, or python:module:Symbol (allow-listed)")
    config: dict[str, Any] = Field(default_factory=dict, description="constructor kwargs of the op")
    layer: "NodeConfig | None" = Field(default=None, description="the inline layer (its fields sit beside id/in/out)")

    @model_validator(mode="before")
    @classmethod
    def _inline_layer(cls, data: Any) -> Any:
        """Move an inline layer's fields (``type`` and the rest) into ``layer``."""
        if isinstance(data, dict) and "type" in data:
            data = dict(data)
            data["layer"] = {k: data.pop(k) for k in list(data) if k not in PORT_KEYS}
        return data

    def check(self, flow: DimFlow, path: str) -> None:
        """Exactly one of layer/op; an op must be a known torch.nn name or an allow-listed reference."""
        if (self.layer is None) == (self.op is None):
            flow.error(path, f"node {self.id!r} needs exactly one of an inline layer (type: …) or op: …",
                       "give either type: <LayerName> with its fields, or op: <torch.nn name>")
        if self.op is None:
            return
        if self.op.startswith("python:"):
            module = self.op.split(":")[1] if self.op.count(":") == 2 else ""
            from caramba.workspace import allowlist

            allowed = allowlist()
            if not module or not any(module == p or module.startswith(p.rstrip(".") + ".") for p in allowed):
                flow.error(f"{path}.op", f"{self.op!r} is not allowed: module {module or '?'!r} is not in the workspace python_allowlist "
                           f"({allowed or 'empty'})", f"add the module prefix to python_allowlist in caramba.yml, "
                           "or use a registered layer / torch.nn op (format python:module:Symbol)")
        elif self.op not in TORCH_OPS:
            close = difflib.get_close_matches(self.op, sorted(TORCH_OPS), n=3, cutoff=0.5)
            flow.error(f"{path}.op", f"unknown op {self.op!r}",
                       (f"did you mean {' or '.join(close)}? " if close else "") + f"known torch.nn ops: {', '.join(sorted(TORCH_OPS))}")

    def infer(self, flow: DimFlow, widths: list[int | None], path: str) -> int | None:
        """Output width from the input widths (None when unknown)."""
        if self.layer is not None:
            return self.layer.infer(flow, widths[0] if len(widths) == 1 else None, f"{path}")
        if self.op in ELEMENTWISE_OPS:
            return widths[0] if len(widths) == 1 else None
        if self.op in ("Linear", "LayerNorm", "RMSNorm"):
            key = "in_features" if self.op == "Linear" else "normalized_shape"
            declared = self.config.get(key)
            if isinstance(declared, int) and len(widths) == 1 and widths[0] is not None and declared != widths[0]:
                flow.error(f"{path}.config.{key}", f"{key}={declared} but the input {self.inputs!r} has width {widths[0]}",
                           f"set {key}: {widths[0]}")
            return self.config.get("out_features", declared) if self.op == "Linear" else declared
        return None


class GraphTopologyConfig(LayerConfig):
    """``GraphTopology``: nodes over named tensors (module docstring); ``nodes`` aliases ``layers``.

    Used inside a single-stream model, its input tensor is bound to ``inputs[0]`` and the
    single output key is returned; several outputs come back as a dict.
    """

    type: Literal["GraphTopology"] = "GraphTopology"
    layers: list[GraphNodeConfig] = Field(min_length=1, alias="nodes", description="the nodes (any order)")
    inputs: list[str] = Field(default_factory=lambda: ["inputs"], min_length=1, description="keys fed from outside")
    outputs: list[str] | None = Field(default=None, description="keys returned (default: the keys written that no node reads)")

    @model_validator(mode="before")
    @classmethod
    def _layers_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "layers" in data and "nodes" not in data:
            data = dict(data)
            data["nodes"] = data.pop("layers")
        return data

    def output_keys(self) -> list[str]:
        """Keys the topology returns: ``outputs``, or every written key no node reads."""
        if self.outputs:
            return self.outputs
        read = {k for n in self.layers for k in _ports(n.inputs)}
        return [k for n in self.layers for k in _ports(n.out) if k not in read] or _ports(self.layers[-1].out)

    def order(self, flow: DimFlow | None = None, path: str = "") -> list[int]:
        """Node indices in dependency order; issues (cycles, unknown or doubly written keys) go to ``flow``."""
        flow = flow or DimFlow()
        writer: dict[str, int] = {}
        for i, node in enumerate(self.layers):
            for key in _ports(node.out):
                if key in writer or key in self.inputs:
                    flow.error(f"{path}.layers[{i}].out", f"key {key!r} is written twice", "give every output key a unique name")
                writer.setdefault(key, i)
        ids = [n.id for n in self.layers]
        for i, node_id in enumerate(ids):
            if ids.index(node_id) != i:
                flow.error(f"{path}.layers[{i}].id", f"node id {node_id!r} repeats", "give every node a unique id")
        deps: dict[int, set[int]] = {}
        for i, node in enumerate(self.layers):
            deps[i] = set()
            for key in _ports(node.inputs):
                if key in writer:
                    deps[i].add(writer[key])
                elif key not in self.inputs:
                    known = sorted(set(writer) | set(self.inputs))
                    flow.error(f"{path}.layers[{i}].in", f"node {node.id!r} reads {key!r}, which no node writes",
                               f"use one of {', '.join(known)}, or add {key!r} to inputs")
        done: list[int] = []
        while len(done) < len(self.layers):
            ready = [i for i in deps if i not in done and deps[i] <= set(done)]
            if not ready:
                cycle = [self.layers[i].id for i in deps if i not in done]
                flow.error(f"{path}.layers", f"the graph has a cycle through nodes {cycle}", "a GraphTopology must be a DAG; break the cycle")
                return done
            done.append(ready[0])
        for key in self.output_keys():
            if key not in writer and key not in self.inputs:
                flow.error(f"{path}.outputs", f"output {key!r} is never written", f"use one of {', '.join(sorted(writer))}")
        return done

    def infer(self, flow: DimFlow, d_in: int | None, path: str) -> int | None:
        """Follow the widths through the nodes in dependency order; the output's width when there is one output."""
        widths: dict[str, int | None] = {key: None for key in self.inputs}
        widths[self.inputs[0]] = d_in
        for i in self.order(flow, path):
            node = self.layers[i]
            node.check(flow, f"{path}.layers[{i}]")
            d_out = node.infer(flow, [widths.get(k) for k in _ports(node.inputs)], f"{path}.layers[{i}]")
            for key in _ports(node.out):
                widths[key] = d_out if len(_ports(node.out)) == 1 else None
        outs = self.output_keys()
        return widths.get(outs[0]) if len(outs) == 1 else None

    def children(self) -> list[LayerConfig]:
        """The layers of the graph's nodes (nodes that apply an op have none)."""
        return [n.layer for n in self.layers if n.layer is not None]

    def kv_values_per_token(self) -> int:
        """The values per token the nodes' layers cache."""
        return sum(child.kv_values_per_token() for child in self.children())

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The nodes in dependency order (ports, op, built layer) and the graph's input and output keys."""
        nodes = [{"id": n.id, "inputs": _ports(n.inputs), "outputs": _ports(n.out), "op": n.op, "config": dict(n.config),
                  "module": build(n.layer) if n.layer is not None else None} for n in (self.layers[i] for i in self.order())]
        return {"nodes": nodes, "inputs": list(self.inputs), "outputs": self.output_keys()}


class GraphSystemConfig(SystemConfig):
    """``system.graph``: a GraphTopology over a dict of input tensors (batch keys → ``inputs``)."""

    topology: GraphTopologyConfig = Field(description="the graph")
    input_widths: dict[str, int] = Field(default_factory=dict, description="feature width of each input key (for validation)")

    def infer(self, flow: DimFlow, path: str) -> None:
        """Check the graph (widths of ``inputs[0]`` from ``input_widths``)."""
        self.topology.infer(flow, self.input_widths.get(self.topology.inputs[0]), f"{path}.topology")

    def build_kwargs(self, build: BuildFn) -> dict[str, Any]:
        """The built topology over the batch's tensors."""
        return {"topology": build(self.topology)}
