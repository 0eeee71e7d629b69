"""Under DDP the next-token objective fuses the head with the loss *inside* the wrapper's forward.

On CUDA the kernel dispatch fuses the LM head with the cross-entropy (the logits are never
materialised). Under DDP the objective used to score logits instead (the wrapper has no
``features``), so each GPU materialised batch × 1024 × 50257 logits; now it asks the
wrapper's forward for the loss (``model(inputs, ctx, targets=…)``), so DDP's reducer runs
as for any forward. The dispatch never picks Triton on the CPU, so each rank here makes it
say yes (the fused path; ``linear_cross_entropy`` itself then takes its PyTorch path), and
two gloo ranks, each with half the batch, must give the one-process loss and gradients
computed by the test itself: logits of the plain model, ``F.cross_entropy``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from caramba.engine.compiler import compile_manifest
from caramba.engine.model.systems import transformer
from caramba.engine.run import build
from caramba.engine.train.objectives import next_token
from tests.train.manifests import tiny

WORLD = 2
ROOT = Path(__file__).resolve().parents[2]


def model_and_batch() -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """The tiny manifest's model (seeded) and a batch of 8 sequences of 16 tokens."""
    torch.manual_seed(0)
    target = compile_manifest(tiny(steps=1)).manifest.targets[0]
    model = build.build_model(target, target.runs[0])
    generator = torch.Generator().manual_seed(0)
    batch = {"inputs": torch.randint(0, 32, (8, 16), generator=generator),
             "targets": torch.randint(0, 32, (8, 16), generator=generator)}
    return model, batch


def rank_main(rank: int, store: str, out: str) -> None:
    """One DDP rank: its half of the batch through the objective's fused path; saves loss, grads, fused calls."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD)
    try:
        model, batch = model_and_batch()
        half = {k: v.chunk(WORLD)[rank] for k, v in batch.items()}
        next_token.uses_triton = lambda op, tensor: True  # as the dispatch says on CUDA
        calls = []
        fused = transformer.linear_cross_entropy
        transformer.linear_cross_entropy = lambda *a, **k: calls.append(1) or fused(*a, **k)
        ddp = DistributedDataParallel(model)
        loss = next_token.NextTokenObjective()(ddp, half).loss
        loss.backward()
        grads = {n: p.grad for n, p in model.named_parameters()}
        torch.save({"loss": loss.detach(), "grads": grads, "calls": len(calls)}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_ddp_scores_through_the_fused_head_inside_its_forward(tmp_path: Path) -> None:
    code = "import sys; from tests.train.test_ddp_fused_head import rank_main; rank_main(int(sys.argv[1]), *sys.argv[2:])"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(r), str(tmp_path / "store"), str(tmp_path / "out")],
                              cwd=ROOT, env=env) for r in range(WORLD)]
    assert [p.wait(timeout=120) for p in procs] == [0] * WORLD
    model, batch = model_and_batch()
    logits = model(batch["inputs"])
    expected = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), batch["targets"].reshape(-1))
    expected.backward()
    ranks = [torch.load(tmp_path / f"out.{r}") for r in range(WORLD)]
    assert [r["calls"] for r in ranks] == [1, 1]  # each rank took the fused head + loss, once
    torch.testing.assert_close(sum(r["loss"] for r in ranks) / WORLD, expected.detach(), rtol=1e-5, atol=1e-6)
    for name, param in model.named_parameters():
        for r in ranks:  # DDP averaged the ranks' gradients: each holds the whole batch's
            torch.testing.assert_close(r["grads"][name], param.grad, rtol=1e-4, atol=1e-6, msg=name)
