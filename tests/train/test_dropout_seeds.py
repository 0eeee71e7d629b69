"""Dropout masks are a function of the micro-batch's seed (run seed, micro-batch, first row).

The distributed tests (``test_distributed.py``, dropout on) check the consequences on 2
gloo ranks: DDP and FSDP equal the one-process run, and kill -9 + resume on 1 or 2 ranks
ends with the uninterrupted weights. Here: the seeds differ per micro-batch and row, and
the same seed gives the same masks while another seed gives others (so dropout is on).
"""

from __future__ import annotations

import torch

from caramba.engine.compiler import compile_manifest
from caramba.engine.run import build
from caramba.engine.train.seeding import micro_batch_seed, seed_micro_batch
from tests.train.test_distributed import manifest


def test_seeds_differ_per_micro_batch_and_row() -> None:
    seeds = {micro_batch_seed(0, index, row) for index in range(50) for row in (0, 8)}
    assert len(seeds) == 100 and all(0 <= s < 2**63 for s in seeds)
    assert micro_batch_seed(0, 3, 0) == micro_batch_seed(0, 3, 0) != micro_batch_seed(1, 3, 0)


def test_the_seed_decides_the_dropout_masks() -> None:
    target = compile_manifest(manifest(None)).manifest.targets[0]
    model = build.build_model(target, target.runs[0]).train()
    ids = torch.randint(0, 32, (4, 32), generator=torch.Generator().manual_seed(0))

    def logits(seed: int) -> torch.Tensor:
        torch.rand(7)  # whatever drew from the generator before does not matter once it is reseeded
        seed_micro_batch(seed, torch.device("cpu"))
        return model(ids)

    first = micro_batch_seed(0, 0, 0)
    torch.testing.assert_close(logits(first), logits(first), rtol=0, atol=0)
    assert not torch.allclose(logits(first), logits(micro_batch_seed(0, 1, 0)))
    assert torch.allclose(model.eval()(ids), model(ids))  # eval mode: no dropout, no randomness
