"""The dry run's activation memory equals what autograd really keeps for backward.

The estimate runs on the meta device, where scaled_dot_product_attention can only take
its math path (which saves the T × T probabilities); training takes a fused kernel (flash
on CUDA and on the CPU) that saves q, k, v, the output and a log-sum-exp. The reference
here is a real CPU forward of the same model, its saved tensors counted once per storage
as they sit in memory: the meta estimate must equal it, in float32 and in bfloat16 (the
dtype the dry run measures an autocast run's graph in).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from caramba.engine.compiler import compile_manifest
from caramba.engine.model.build import build_system
from caramba.engine.plan.measure import graph_cost
from caramba.engine.run import build
from tests.train.manifests import tiny


def saved_bytes(model: nn.Module, ids: torch.Tensor) -> int:
    """Bytes of the storages autograd holds after a real forward (parameters excluded)."""
    held: dict[int, tuple[torch.UntypedStorage, int]] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if not isinstance(tensor, nn.Parameter):
            storage = tensor.untyped_storage()
            held[storage.data_ptr()] = (storage, storage.nbytes())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(ids).float().sum()
    return sum(size for _, size in held.values())


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_meta_estimate_equals_the_real_saved_tensors(dtype: torch.dtype) -> None:
    target = compile_manifest(tiny(steps=1)).manifest.targets[0]
    real = build.build_model(target, target.runs[0]).to(dtype)
    ids = torch.randint(0, 32, (4, 32), generator=torch.Generator().manual_seed(0))
    with torch.device("meta"):
        meta = build_system(target.system.ref, target.system.config).to(dtype)
        estimate = graph_cost(meta, (ids.to("meta"),)).activation_bytes
    assert estimate == saved_bytes(real, ids)
