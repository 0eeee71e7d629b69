"""The teacher of a run on several ranks: replicated on each, or sharded by FSDP2.

A teacher (``trainer.upcycle``'s, or ``train.teacher_ckpt`` for the verify gates) is frozen:
it only runs forwards. ``defaults.runtime.distributed.teacher`` places it
(``DistributedConfig.teacher_placement``):

* ``replicated`` (the default under ddp) — a whole copy on every rank, moved to the rank's
  device; each rank runs it on its own share of each batch, no collective;
* ``sharded`` (the default under fsdp) — ``fully_shard`` on each repeated block and on the
  root, exactly as the student is sharded (``Strategy.wrap``: same shard units, the
  manifest's ``param_dtype`` as mixed precision), its parameters frozen and the module in
  eval mode. Every forward is then a collective (all-gathers): every rank must run the
  teacher the same number of times, which the callers guarantee (the teacher cache agrees
  on hits across ranks, evaluations pad their batch shares).

In a world of one there is nothing to shard: the teacher stays whole and the log says so.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.train.distributed.strategy import DTYPES, Strategy, shard_units


def placement(strategy: Strategy) -> str:
    """``replicated`` or ``sharded``: where this run keeps its teacher (one process: replicated)."""
    if not strategy.ctx.distributed:
        return "replicated"
    return strategy.ctx.config.teacher_placement


def place_teacher(model: nn.Module, strategy: Strategy, device: torch.device, dtype: torch.dtype) -> tuple[nn.Module, str]:
    """``model`` frozen, in eval mode, on ``device`` at ``dtype``, replicated or sharded; (model, one log line)."""
    for param in model.parameters():
        param.requires_grad_(False)
    model = model.to(device=device, dtype=dtype).eval()
    if placement(strategy) == "replicated":
        where = "replicated on each rank" if strategy.ctx.distributed else "whole (one process)"
        return model, f"teacher: {where}"
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    config = strategy.ctx.config
    policy = MixedPrecisionPolicy(param_dtype=DTYPES[config.param_dtype] if config.param_dtype else None)
    units = shard_units(model)
    for unit in units:
        fully_shard(unit, mp_policy=policy, reshard_after_forward=True)
    fully_shard(model, mp_policy=policy, reshard_after_forward=True)
    return model.eval(), (f"teacher: sharded over {strategy.ctx.world_size} ranks (FSDP2 fully_shard, {len(units)} blocks + "
                          "root, frozen, eval mode)")


def whole_state(model: nn.Module) -> dict[str, Tensor]:
    """The teacher's whole weights on every rank (sharded: all-gathered, a collective; else its state dict)."""
    from torch.distributed.fsdp import FSDPModule

    if not isinstance(model, FSDPModule):
        return model.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
