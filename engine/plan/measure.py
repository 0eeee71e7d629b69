"""Measurements on the meta device: parameters, FLOPs and saved activations.

Nothing here allocates real memory: modules are built under ``torch.device("meta")`` and
inputs are meta tensors, so a 70B-parameter model dry-runs on a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode
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
    matmul_weights: int = 0  # elements of the distinct parameters used as F.linear weights (autocast copies them)


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
    """Count forward/backward FLOPs and the activation bytes saved for backward.

    Saved activations are counted as the training step allocates them:

    * each storage once — views of one tensor (q, k and v split from one projection, a
      transpose) are one allocation;
    * in the dtype the graph runs in (the dry run runs it in the autocast dtype for an AMP
      run: matmuls save 16-bit tensors, norms that compute in float32 save float32);
    * attention as PyTorch's fused SDPA kernels (flash, memory-efficient; the CUDA and CPU
      fast paths) keep it for backward — q, k, v, the output and one float32
      log-sum-exp per query row — not the T × T probabilities that SDPA's math path, the
      only one on the meta device, saves (``_FusedAttention``).
    """
    storages: dict[int, tuple[Any, int]] = {}
    attention = _FusedAttention(storages)
    weights = _LinearWeights()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if not isinstance(tensor, nn.Parameter) and not attention.inside:
            _count(storages, tensor)
        return tensor

    forward = FlopCounterMode(display=False)
    with forward, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), attention, weights:
        output = model(*inputs)
        loss = output.float().sum() if isinstance(output, torch.Tensor) else sum(o.float().sum() for o in output)
    backward = FlopCounterMode(display=False)
    with backward:
        loss.backward()
    return GraphCost(forward.get_total_flops(), backward.get_total_flops(), sum(size for _, size in storages.values()) + attention.extra,
                     sum(p.numel() for p in weights.seen.values()))


def _count(storages: dict[int, tuple[Any, int]], tensor: torch.Tensor) -> None:
    """Record ``tensor``'s storage (its bytes) once.

    The storage object is kept (until the measurement ends) so that its address, the key,
    cannot be reused by a later allocation and merge two tensors into one."""
    storage = tensor.untyped_storage()
    size = storage.nbytes()
    key = storage._cdata
    storages[key] = (storage, max(storages[key][1], size) if key in storages else size)


class _FusedAttention(TorchFunctionMode):
    """Accounts ``scaled_dot_product_attention`` as its fused kernels save it (see :func:`graph_cost`).

    The call itself runs unchanged (FLOPs are counted as before); what autograd saves
    inside it is ignored, and q, k, v, the output and the log-sum-exp are counted instead."""

    def __init__(self, storages: dict[int, tuple[Any, int]]) -> None:
        super().__init__()
        self.storages, self.inside, self.extra = storages, False, 0

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if func is not F.scaled_dot_product_attention:
            return func(*args, **kwargs)
        self.inside = True
        try:
            out = func(*args, **kwargs)
        finally:
            self.inside = False
        query, key, value = (kwargs[n] if n in kwargs else args[i] for i, n in enumerate(("query", "key", "value")))
        if out.requires_grad:
            for tensor in (query, key, value, out):
                _count(self.storages, tensor)
            self.extra += query.shape[:-1].numel() * 4  # float32 log-sum-exp, one per (batch, head, query)
        return out


class _LinearWeights(TorchFunctionMode):
    """Records the parameters ``F.linear`` takes as its weight, once each.

    Under autocast with float32 weights, each is cast once to the autocast dtype and the
    copy — not a parameter, so not in the activations — is what the matmul saves for its
    backward, held until that layer's backward (``engine/plan/dry_run.py`` counts it)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[int, nn.Parameter] = {}

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if func is F.linear:
            weight = kwargs["weight"] if "weight" in kwargs else args[1]
            if isinstance(weight, nn.Parameter) and weight.requires_grad:
                self.seen[id(weight)] = weight
        return func(*args, **kwargs)


def optimizer_state_bytes(optimizer: str, trainable: int) -> int:
    """fp32 optimizer state: AdamW keeps two moments, SGD (momentum) and Lion one."""
    return trainable * 4 * (2 if optimizer == "adamw" else 1)
