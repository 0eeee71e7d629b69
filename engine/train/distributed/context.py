"""``DistContext``: this process's place in a torchrun job (rank, world, device, groups).

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous variables; they
are torchrun's contract, read here once. Without them the context is a world of one and
nothing is initialised. With them the default process group is created with the
manifest's backend (auto: NCCL on CUDA, gloo on the CPU), each rank takes the CUDA device
of its local rank, and a second, gloo group carries the small control messages (the
cancel flag, which runs to do, the run store's decisions) on the CPU so they never
synchronise a GPU stream.
"""

from __future__ import annotations

import atexit
import gc
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from caramba.engine.manifest.distributed import DistributedConfig


PEER_MARK = "another rank stopped"
_CONTROL: list[Any] = []  # the process's control group, created with the default group


class PeerFailed(RuntimeError):
    """A collective failed because another rank is gone; the run resumes from its checkpoint."""


def is_peer_failure(exc: BaseException) -> bool:
    """True for the error a collective raises when another rank is gone: a ``DistError``, or
    gloo's plain ``RuntimeError`` about its connection (reset or closed by the peer)."""
    text = str(exc)
    return isinstance(exc, (PeerFailed, dist.DistError)) or ("gloo" in text and "by peer" in text)


def _shutdown() -> None:
    """Free unreachable objects, then destroy the process groups — while the interpreter is alive.

    DDP wrappers sit in reference cycles (hooks that refer back to them) and their reducers hold
    gloo work objects with tensors; left to interpreter finalization, destroying those tensors
    needs the GIL that is being torn down and the process aborts after a successful run
    (``terminate called without an active exception``: seen on 2 gloo ranks of an upcycle run,
    which builds one DDP wrapper per block)."""
    gc.collect()
    dist.destroy_process_group()


def launched_by_torchrun() -> bool:
    """True when torchrun (or any launcher with its environment contract) started this process."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


@dataclass
class DistContext:
    """Rank, world size and groups of this process (a world of one without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    config: DistributedConfig = field(default_factory=DistributedConfig)
    control: Any = None  # the gloo group for control messages (None in a world of one)
    group: Any = None  # the group DDP reduces gradients over (None: the default group)

    @property
    def main(self) -> bool:
        """True on rank 0: the rank that owns the run store entry, the console and the artifacts."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when there is more than one rank."""
        return self.world_size > 1

    @classmethod
    def start(cls, config: DistributedConfig | None, device_type: str) -> "DistContext":
        """Join the torchrun job (once per process), or return a world of one."""
        config = config or DistributedConfig()
        if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
            return cls(config=config)
        rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
        backend = config.backend if config.backend != "auto" else ("nccl" if device_type == "cuda" else "gloo")
        if backend == "nccl" and device_type != "cuda":
            raise ValueError("runtime.distributed.backend nccl needs CUDA devices; use gloo (or auto) on the CPU")
        if device_type == "cuda":
            torch.cuda.set_device(local)
        if dist.is_initialized():  # a later target or comparison arm of the same process
            return cls(rank, world, local, backend, config, _CONTROL[0])
        dist.init_process_group(backend, device_id=torch.device("cuda", local) if backend == "nccl" else None,
                                timeout=timedelta(minutes=30))
        _CONTROL[:] = [dist.new_group(backend="gloo") if backend != "gloo" else dist.group.WORLD]
        atexit.register(_shutdown)  # once, when the process ends
        return cls(rank, world, local, backend, config, _CONTROL[0])

    def device(self, requested: torch.device) -> torch.device:
        """The device of this rank: ``cuda:<local rank>`` for a CUDA run, else ``requested``."""
        if self.distributed and requested.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return requested

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any (the cancel agreement, one tiny gloo all-reduce)."""
        if not self.distributed:
            return flag
        value = torch.tensor([1 if flag else 0], dtype=torch.int32)
        self._collective(dist.all_reduce, value, op=dist.ReduceOp.MAX, group=self.control)
        return bool(value.item())

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (a picklable control message over the gloo group)."""
        if not self.distributed:
            return obj
        box = [obj if self.main else None]
        self._collective(dist.broadcast_object_list, box, src=0, group=self.control)
        return box[0]

    def barrier(self) -> None:
        """Wait for every rank (over the control group)."""
        if self.distributed:
            self._collective(dist.barrier, group=self.control)

    def _collective(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except (RuntimeError, dist.DistBackendError) as exc:
            raise PeerFailed(f"rank {self.rank}: a collective failed — {PEER_MARK} ({exc})") from exc

