"""``GraphTopology``: a named-port DAG over a dict of tensors.

Nodes arrive in dependency order (the config sorts them). Each reads its ``inputs`` keys
from the running dict, runs, and writes its ``outputs`` keys (a tuple output fills
several). Layer nodes get ``ctx``; op nodes (a ``torch.nn`` class by name, or an
allow-listed ``python:module:Symbol``) are called with the input tensors positionally.
"""

from __future__ import annotations

import importlib
from typing import Any

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


def resolve_op(op: str, config: dict[str, Any]) -> nn.Module:
    """Construct an op node's module; ``python:`` references are re-checked against the allow-list."""
    if op.startswith("python:"):
        _, module_name, symbol = op.split(":")
        from caramba.workspace import allowlist

        if not any(module_name == p or module_name.startswith(p.rstrip(".") + ".") for p in allowlist()):
            raise PermissionError(f"{op!r} is not in the workspace python_allowlist; add its module prefix to caramba.yml")
        target = getattr(importlib.import_module(module_name), symbol)
    else:
        target = getattr(nn, op, None)
        if not (isinstance(target, type) and issubclass(target, nn.Module)):
            raise ValueError(f"torch.nn has no module {op!r}")
    module = target(**config)
    if not isinstance(module, nn.Module):
        raise TypeError(f"{op!r} built a {type(module).__name__}, not an nn.Module")
    return module


class GraphTopology(nn.Module):
    """Evaluate the nodes in order over a dict of named tensors."""

    def __init__(self, nodes: list[dict[str, Any]], inputs: list[str], outputs: list[str]) -> None:
        super().__init__()
        self.ids = [n["id"] for n in nodes]
        self.ports = [(list(n["inputs"]), list(n["outputs"])) for n in nodes]
        self.is_layer = [n["module"] is not None for n in nodes]
        self.nodes = nn.ModuleDict({n["id"]: n["module"] if n["module"] is not None else resolve_op(n["op"], n["config"])
                                    for n in nodes})
        self.inputs, self.outputs = inputs, outputs

    def forward(self, x: Tensor | dict[str, Tensor], ctx: ForwardContext | None = None) -> Tensor | dict[str, Tensor]:
        """A tensor (bound to ``inputs[0]``) or a dict of tensors → the output tensor, or a dict of outputs."""
        values = dict(x) if isinstance(x, dict) else {self.inputs[0]: x}
        missing = [k for k in self.inputs if k not in values]
        if missing:
            raise KeyError(f"GraphTopology inputs {missing} were not provided (got {sorted(values)})")
        for node_id, (ins, outs), is_layer in zip(self.ids, self.ports, self.is_layer):
            args = [values[k] for k in ins]
            result = self.nodes[node_id](*args, ctx) if is_layer else self.nodes[node_id](*args)
            results = result if isinstance(result, tuple) else (result,)
            if len(results) != len(outs):
                raise ValueError(f"node {node_id!r} returned {len(results)} values for outputs {outs}")
            values.update(zip(outs, results))
        if len(self.outputs) == 1:
            return values[self.outputs[0]]
        return {k: values[k] for k in self.outputs}
