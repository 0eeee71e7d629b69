"""Distributed training through PyTorch's own machinery: torchrun starts the ranks,
DDP or FSDP2 (``fully_shard``) train them, ``torch.distributed.checkpoint`` saves them.

* ``context.py`` — ``DistContext``: rank, world size, device and groups from torchrun's environment;
* ``sharding.py`` — which sequences each rank trains on (a pure function of step and rank);
* ``strategy.py`` — ``Strategy``: what the trainer composes (wrap, batches, reductions);
* ``quiet.py`` — the log/sinks/display of ranks other than 0;
* ``launch.py`` — ``caramba run --nproc N``: torchrun for one host, failures named by rank;
* ``memory.py`` — per-rank memory for the dry run;
* ``teacher.py`` — a run's teacher replicated on every rank or sharded by FSDP2 (``distributed.teacher``);
* ``shares.py`` — held-out batches split over ranks and their sums reduced (verify gates, upcycling reports).
"""

from caramba.engine.train.distributed.context import PEER_MARK, DistContext, PeerFailed, is_peer_failure, launched_by_torchrun
from caramba.engine.train.distributed.strategy import Strategy

__all__ = ["PEER_MARK", "DistContext", "PeerFailed", "Strategy", "is_peer_failure", "launched_by_torchrun"]
