"""Measurements on the meta device: parameters, FLOPs and saved activations.

Nothing here allocates real memory: modules are built under ``torch.device("meta")`` and
inputs are meta tensors, so a 70B-parameter model dry-runs on a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from caramba.engine.plan.report import LayerCost
from caramba.engine.registry import REGISTRY

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


@dataclass
class GraphCost:
    """FLOPs of one forward and one backward, and bytes autograd saves for backward."""

    forward_flops: int
    backward_flops: int
    activation_bytes: int


def layer_costs(model: nn.Module) -> list[LayerCost]:
    """Parameters of every module whose class implements a registered layer or embedder.

    A class registered through a factory function (``attention_layer`` picks the class by
    mode) names its manifest type in a ``registry_name`` class attribute.
    """
    classes: dict[type, str] = {}
    for kind in ("layer", "embedder"):
        for entry in REGISTRY.entries(kind):
            implementation = entry.load()
            if isinstance(implementation, type):
                classes[implementation] = entry.name
    rows: list[LayerCost] = []
    for name, module in model.named_modules():
        kind = classes.get(type(module), getattr(type(module), "registry_name", None))
        if kind is not None:
            rows.append(LayerCost(name or "<model>", kind, sum(p.numel() for p in module.parameters())))
    return rows


def graph_cost(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> GraphCost:
    """Count forward/backward FLOPs and the activation bytes saved for backward."""
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if not isinstance(tensor, nn.Parameter):
            saved[id(tensor)] = tensor.numel() * tensor.element_size()
        return tensor

    forward = FlopCounterMode(display=False)
    with forward, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        output = model(*inputs)
        loss = output.float().sum() if isinstance(output, torch.Tensor) else sum(o.float().sum() for o in output)
    backward = FlopCounterMode(display=False)
    with backward:
        loss.backward()
    return GraphCost(forward.get_total_flops(), backward.get_total_flops(), sum(saved.values()))


def optimizer_state_bytes(optimizer: str, trainable: int) -> int:
    """fp32 optimizer state: AdamW keeps two moments, SGD (momentum) and Lion one."""
    return trainable * 4 * (2 if optimizer == "adamw" else 1)
