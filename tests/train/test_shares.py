"""Held-out scoring split over 2 gloo ranks (``engine/train/distributed/shares.py``).

Every batch is scored exactly once across the ranks, every rank runs the same number of
forwards (a sharded model's all-gathers pair up), the sums are the one-process sums, and a
cancellation that reaches one rank only stops both ranks at the same batch, neither left
waiting in a collective.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from caramba.engine.train.distributed.context import DistContext
from caramba.engine.train.distributed.shares import batch_shares, reduce_values

ROOT = Path(__file__).resolve().parents[2]
BATCHES = 5


def rank_main(rank: int, store: str, out: str) -> None:
    """One rank: its shares of 5 batches (a collective per batch, as a sharded forward is), then a
    second pass in which rank 0 alone is cancelled before batch 2."""
    from caramba.engine import cancel

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2, timeout=timedelta(seconds=60))
    ctx = DistContext(rank=rank, world_size=2, backend="gloo", control=dist.group.WORLD)
    try:
        seen, total = [], 0.0
        for index, counted in batch_shares(BATCHES, ctx):
            dist.all_reduce(torch.ones(1))  # the forward's collective
            seen.append((index, counted))
            total += float(index + 1) if counted else 0.0
        [summed] = reduce_values(ctx, [total])
        stopped_at = None
        try:
            for k, _ in enumerate(batch_shares(BATCHES, ctx, "a test pass")):
                dist.all_reduce(torch.ones(1))
                if rank == 0 and k == 1:
                    cancel.request()
        except cancel.Cancelled as exc:
            stopped_at = str(exc)
        torch.save({"seen": seen, "summed": summed, "stopped": stopped_at}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_two_ranks_score_each_batch_once_and_stop_together(tmp_path: Path) -> None:
    code = "import sys; from tests.train.test_shares import rank_main; rank_main(int(sys.argv[1]), *sys.argv[2:])"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(r), str(tmp_path / "store"), str(tmp_path / "out")],
                              cwd=ROOT, env=env) for r in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    ranks = [torch.load(tmp_path / f"out.{r}") for r in range(2)]
    assert len(ranks[0]["seen"]) == len(ranks[1]["seen"]) == 3  # ceil(5 / 2): the same forwards on both
    counted = sorted(i for r in ranks for i, c in r["seen"] if c)
    assert counted == list(range(BATCHES))  # each batch scored once
    assert ranks[0]["summed"] == ranks[1]["summed"] == sum(range(1, BATCHES + 1))
    for r in ranks:  # both stopped before their third batch, though only rank 0 was cancelled
        assert r["stopped"] is not None and r["stopped"].startswith("cancelled during a test pass (after 2 of rank ")
    assert "rank 0's 3 batches" in ranks[0]["stopped"] and "rank 1's 3 batches" in ranks[1]["stopped"]
