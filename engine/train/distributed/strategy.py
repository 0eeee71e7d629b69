"""``Strategy``: what a trainer composes to train on one rank or many (DDP, FSDP2).

The trainer stays a single-process loop; the strategy supplies the few points where
ranks meet:

* :meth:`wrap` — DDP (``DistributedDataParallel``) or FSDP2 (``fully_shard`` on each
  repeated block that owns its parameters, then on the root, with the manifest's
  ``MixedPrecisionPolicy``); a world of one is left as it is;
* :meth:`compiles_step` — whether the trainer compiles its whole step (not under FSDP2,
  whose blocks are compiled one by one);
* :meth:`micro_batches` — this rank's share of the global batch (``sharding.py``);
* :meth:`sync` — DDP skips the gradient all-reduce on all but the last micro-batch;
* :meth:`reduce` — the logged loss and metrics averaged over ranks (device tensors, no
  host sync), the FSDP gradient norm made whole;
* :meth:`mean_loss` — held-out loss with the batches split over ranks and summed;
* :meth:`full_state` — the whole model's weights on rank 0 (for verify/benchmarks).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from caramba.engine.data.base import Dataset
from caramba.engine.train.distributed.context import DistContext
from caramba.engine.train.distributed.sharding import MicroBatch, rank_micro_batches
from caramba.engine.train.evaluate import mean_loss, to_device
from caramba.engine.train.objective import Objective

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def shard_units(model: nn.Module) -> list[nn.Module]:
    """Blocks FSDP2 shards one by one: the innermost elements of ``nn.ModuleList``s holding
    1–50 % of the parameters, none shared (tied) with anything outside them. The root
    shards the rest (embeddings, tied head, small norms)."""
    names: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), []).append(name)
    total = sum(p.numel() for p in model.parameters())
    units = []
    for prefix, module in model.named_modules():
        if not isinstance(module, nn.ModuleList):
            continue
        for index, child in enumerate(module):
            head = f"{prefix}.{index}." if prefix else f"{index}."
            params = list(child.parameters())
            size = sum(p.numel() for p in params)
            if not params or size * 100 < total or size * 2 > total:
                continue
            if all(n.startswith(head) for p in params for n in names[id(p)]):
                units.append(child)
    inner = [u for u in units if not any(o is not u and any(m is o for m in u.modules()) for o in units)]
    return inner


class Strategy:
    """One rank's part in a (possibly one-rank) training run (see the module docstring)."""

    def __init__(self, ctx: DistContext) -> None:
        self.ctx = ctx
        self.kind = ctx.config.strategy if ctx.distributed else "single"

    @property
    def sharded(self) -> bool:
        """True for FSDP: parameters are DTensor shards."""
        return self.kind == "fsdp"

    def describe(self) -> str:
        """One line for the run's log."""
        if self.kind == "single":
            return "distributed: one process"
        return (f"distributed: {self.kind.upper()} over {self.ctx.world_size} ranks ({self.ctx.backend}); the objective "
                "calls the model through the wrapper's forward (the fused head + loss, where dispatched, runs inside it)")

    def wrap(self, model: nn.Module, device: torch.device, compiled: bool = False) -> tuple[nn.Module, nn.Module]:
        """(module to run forward through, module whose parameters the optimizer owns).

        Under DDP with ``compiled`` (the trainer compiles its step), the module is compiled
        *inside* the wrapper — ``DDP(torch.compile(model))``, nanoGPT's order — so Dynamo's
        DDPOptimizer splits the graph at bucket boundaries and the gradient all-reduce
        overlaps the backward; compiled around the wrapper instead, Dynamo breaks the graph
        inside DDP's forward and every gradient arrives at the end of the backward."""
        config = self.ctx.config
        if self.kind == "ddp":
            from torch.nn.parallel import DistributedDataParallel

            options: dict[str, Any] = {"gradient_as_bucket_view": config.gradient_as_bucket_view is not False,
                                       "static_graph": bool(config.static_graph)}
            if config.bucket_cap_mb is not None:
                options["bucket_cap_mb"] = config.bucket_cap_mb
            ids = [device.index] if device.type == "cuda" else None
            inner = torch.compile(model) if compiled else model
            ddp = DistributedDataParallel(inner, device_ids=ids, process_group=self.ctx.group, **options)
            if config.reduce_dtype in ("bfloat16", "float16"):  # PyTorch's own compress hooks: half the bytes on the wire
                from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

                hook = default_hooks.bf16_compress_hook if config.reduce_dtype == "bfloat16" else default_hooks.fp16_compress_hook
                ddp.register_comm_hook(None, hook)
            return ddp, model
        if self.kind == "fsdp":
            from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

            param = DTYPES[config.param_dtype] if config.param_dtype else None
            reduce = DTYPES[config.reduce_dtype] if config.reduce_dtype else None
            policy = MixedPrecisionPolicy(param_dtype=param, reduce_dtype=reduce)
            reshard = config.reshard_after_forward is not False
            for unit in shard_units(model):
                if compiled:  # each block compiled, then sharded (see compiles_step)
                    unit.compile()
                fully_shard(unit, mp_policy=policy, reshard_after_forward=reshard)
            fully_shard(model, mp_policy=policy, reshard_after_forward=reshard)
            return model, model
        return model, model

    def compiles_step(self, compiled: bool) -> bool:
        """Whether the trainer compiles its whole forward step (model + objective).

        Under DDP, yes, around the wrapper whose model :meth:`wrap` compiled inside it. The
        alternative (the model alone compiled, the step eager) was measured on 2 × H200
        (``benchmarks/ddp_matrix.py``, GPT-2 124M): 1.35× and, through ``caramba run``,
        1.74× one GPU, against 1.80× for this structure — one sample each, not settled
        (docs/measurements.md, "Distributed training"), so the structure stays.

        Not under FSDP2: a compiled step traces into ``fully_shard``'s hooks, which swap
        each block's parameters between shards and gathered tensors on every call and
        which Dynamo skips (a graph break at every block); that way GPT-2 124M ran at 0.4×
        one GPU on 2 × H200. FSDP2 is compiled as TorchTitan does it instead: each shard
        unit (a transformer block) is compiled on its own before it is sharded
        (:meth:`wrap`; one graph per block kind, checked on the CPU with 24 units), and
        the root's few modules and the objective run eager between the all-gathers."""
        return compiled and self.kind != "fsdp"

    def micro_batches(self, step: int, batch_size: int, accumulation: int) -> list[MicroBatch]:
        """This rank's micro-batches of optimiser step ``step``."""
        return rank_micro_batches(step, batch_size, accumulation, self.ctx.rank, self.ctx.world_size)

    def load(self, dataset: Dataset, micro: MicroBatch, batch_size: int, device: torch.device, pin: bool) -> dict[str, Tensor]:
        """The rows of one micro-batch on ``device``."""
        batch = dataset.batch("train", micro.index, batch_size)
        lo, hi = micro.rows
        if (lo, hi) != (0, batch_size):
            batch = {k: v[lo:hi] for k, v in batch.items()}
        return to_device(batch, device, pin)

    def sync(self, module: nn.Module, last: bool) -> AbstractContextManager[Any]:
        """The context of one micro-batch's backward: DDP reduces gradients on the last only."""
        if self.kind == "ddp" and not last:
            return module.no_sync()  # type: ignore[operator,no-any-return]
        return contextlib.nullcontext()

    def reduce(self, loss: Tensor, norm: Tensor | None, metrics: dict[str, Any], count: int) -> tuple[Tensor, Tensor | None, dict[str, Any], int]:
        """Loss and tensor metrics averaged over ranks, the whole gradient norm, tokens of all ranks."""
        if norm is not None and hasattr(norm, "full_tensor"):
            norm = norm.full_tensor()
        if not self.ctx.distributed:
            return loss, norm, metrics, count
        keys = [k for k, v in metrics.items() if isinstance(v, Tensor)]
        stacked = torch.stack([loss.detach().float().reshape(())] + [metrics[k].detach().float().reshape(()) for k in keys])
        dist.all_reduce(stacked)
        stacked = stacked / self.ctx.world_size
        reduced = dict(metrics)
        for index, key in enumerate(keys, start=1):
            reduced[key] = stacked[index]
        return stacked[0], norm, reduced, count * self.ctx.world_size

    @torch.no_grad()
    def mean_loss(self, model: nn.Module, objective: Objective, dataset: Dataset, batches: int, batch_size: int,
                  device: torch.device, autocast: Callable[[], AbstractContextManager[Any]]) -> float | None:
        """Mean held-out loss over val batches ``0 … batches−1``, split over ranks (same value as one process)."""
        if self.kind == "single":
            return mean_loss(model, objective, dataset, "val", batches, batch_size, device, autocast)
        if dataset.split_size("val") == 0:
            return None
        world, rank = self.ctx.world_size, self.ctx.rank
        was_training = model.training
        model.eval()
        total = torch.zeros((), device=device, dtype=torch.float64)
        # FSDP needs every rank in every forward: ranks past the end repeat a batch and drop it.
        for k in range(math.ceil(batches / world)):
            index = k * world + rank
            batch = to_device(dataset.batch("val", min(index, batches - 1), batch_size), device)
            with autocast():
                loss = objective(model, batch).loss.detach().double()
            if index < batches:
                total += loss
        model.train(was_training)
        if self.ctx.distributed:
            dist.all_reduce(total)
        return float(total.item() / batches)

    def full_state(self, model: nn.Module) -> dict[str, Tensor]:
        """The whole weights of ``model`` (the parameter owner), on rank 0 (empty elsewhere under FSDP,
        where gathering them to the CPU is a collective)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        if not self.sharded:
            return model.state_dict()
        state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        return state if self.ctx.main else {}
