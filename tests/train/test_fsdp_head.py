"""Under FSDP2 the next-token objective calls the model through its forward, never ``features``.

On CUDA the kernel dispatch fuses the head with the loss. Through
``TransformerModel.features`` that skipped the ``fully_shard`` hooks of the model's
forward, which gather the sharded weights, so a sharded model failed its first step
("aten.embedding.default got mixed torch.Tensor and DTensor", seen on 2 × H200). The
objective now asks the forward itself for the fused loss (``targets=…``). The dispatch
never picks Triton on the CPU, so this test makes it say yes and checks, on a one-rank
gloo group, that the sharded model's fused loss equals the plain model's logits + loss.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch.distributed.fsdp import fully_shard

from caramba.engine.compiler import compile_manifest
from caramba.engine.run import build
from caramba.engine.train.objectives import next_token
from tests.train.manifests import tiny


def test_a_sharded_model_is_scored_through_its_forward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = compile_manifest(tiny(steps=1))
    target = compiled.manifest.targets[0]
    model = build.build_model(target, target.runs[0])
    assert hasattr(model, "features")  # a TransformerModel: the fused path would be taken
    objective = next_token.NextTokenObjective()
    generator = torch.Generator().manual_seed(0)
    batch = {"inputs": torch.randint(0, 32, (4, 16), generator=generator),
             "targets": torch.randint(0, 32, (4, 16), generator=generator)}
    expected = objective(model, batch).loss  # the CPU path: logits + cross-entropy
    monkeypatch.setattr(next_token, "uses_triton", lambda op, tensor: True)  # as the dispatch says on CUDA
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        sharded = copy.deepcopy(model)
        for block in sharded.topology.layers[0].layers:  # the repeated blocks, as Strategy.wrap shards them
            fully_shard(block)
        fully_shard(sharded)
        loss = objective(sharded, batch).loss
        loss.backward()
    finally:
        dist.destroy_process_group()
    torch.testing.assert_close(loss, expected, rtol=1e-6, atol=1e-6)
