"""Held-out scoring split over ranks: which batches each rank scores, and the sums of all.

Used by everything that scores a fixed list of batches after (or around) training — the
verify gates (``engine/verify``), the upcycling report (``engine/upcycle/report.py``): batch
``k`` of ``batches`` is scored by rank ``k mod world``. Ranks past the end repeat the last
batch and do not count it, so every rank runs the same number of forwards (a sharded
model's all-gathers are collectives). The partial sums are then added in float64 over the
control group, so the result is the one process's to float rounding.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.distributed as dist

from caramba.engine import cancel
from caramba.engine.train.distributed.context import DistContext


def batch_shares(batches: int, ctx: DistContext | None, phase: str = "held-out scoring") -> Iterator[tuple[int, bool]]:
    """(batch index, counted) pairs rank ``ctx.rank`` scores (all batches, all counted, in one process),
    generated lazily: ``batches`` may be huge and the loop cancelled long before its end.

    On several ranks the ranks agree before each batch whether the run was cancelled (one tiny
    all-reduce) and raise :class:`Cancelled` together: a rank that stopped alone would leave the
    others waiting in a sharded model's all-gather."""
    world = ctx.world_size if ctx is not None and ctx.distributed else 1
    rank = ctx.rank if world > 1 and ctx is not None else 0
    share = -(-batches // world)
    for k in range(share):
        if world > 1 and ctx is not None and ctx.any(cancel.requested()):
            raise cancel.Cancelled(f"cancelled during {phase} (after {k} of rank {rank}'s {share} batches)")
        yield min(k * world + rank, batches - 1), k * world + rank < batches


def reduce_values(ctx: DistContext | None, values: list[float], op: str = "sum") -> list[float]:
    """``values`` added (``op`` sum) or maximised (``op`` max) over the ranks; unchanged in one process."""
    if ctx is None or not ctx.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM, group=ctx.control)
    return [float(v) for v in tensor.tolist()]
