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
from caramba.engine.plan import dry_run
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


def cast_copies(model: nn.Module, ids: torch.Tensor) -> int:
    """Bytes of what a real CPU autocast forward saves for backward that is a bf16 copy of a parameter."""
    params = list(model.parameters())
    held: dict[int, tuple[torch.UntypedStorage, int]] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if not isinstance(tensor, nn.Parameter) and tensor.dtype == torch.bfloat16:
            storage = tensor.untyped_storage()
            flat = torch.tensor([], dtype=torch.bfloat16).set_(storage)
            if any(p.numel() == flat.numel() and torch.equal(flat, p.detach().to(torch.bfloat16).reshape(-1)) for p in params):
                held[storage.data_ptr()] = (storage, storage.nbytes())
        return tensor

    with torch.autocast("cpu", dtype=torch.bfloat16), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(ids).float().sum()
    return sum(size for _, size in held.values())


def test_autocast_weight_copies_are_counted_as_training_holds_them() -> None:
    """fp32 weights under bf16 autocast: each matmul saves autocast's bf16 copy of its weight,
    not a parameter, so not in the activations; the dry run adds those bytes per rank —
    whole under FSDP2 (every rank runs every block) unless it gathers in bf16 already."""
    target = compile_manifest(tiny(steps=1)).manifest.targets[0]
    real = build.build_model(target, target.runs[0])
    ids = torch.randint(0, 32, (4, 32), generator=torch.Generator().manual_seed(0))
    with torch.device("meta"):
        meta = build_system(target.system.ref, target.system.config).to(torch.bfloat16)
        counted = graph_cost(meta, (ids.to("meta"),)).matmul_weights * 2
    assert counted > 0 and counted == cast_copies(real, ids)

    amp = {"device": "cuda", "use_amp": True, "amp_dtype": "bfloat16"}

    def copies(ranks: int, distributed: dict | None) -> int | None:
        defaults = {"runtime": {"distributed": distributed}} if distributed else None
        [plan] = dry_run(compile_manifest(tiny(steps=1, train=amp, defaults=defaults)), ranks=ranks)
        return plan.runs[0].memory_bytes.get("autocast copies")

    assert copies(1, None) == counted
    assert copies(2, {"strategy": "fsdp"}) == counted  # fp32 gathers: each rank casts every block
    assert copies(2, {"strategy": "fsdp", "param_dtype": "bfloat16"}) is None  # gathered in bf16: nothing to cast
