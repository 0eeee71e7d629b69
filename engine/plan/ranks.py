"""Per-rank memory of a run on ``N`` ranks, and whether it fits the devices.

From the one-process numbers (``measure.py``) and the strategy of
``defaults.runtime.distributed``:

* one process / DDP — every rank holds the whole weights, gradients and optimizer
  state; DDP adds a gradient-sized bucket copy unless ``gradient_as_bucket_view``
  (the default) makes gradients views of the buckets;
* FSDP — weights, gradients and optimizer state are divided by ``N``; a rank also
  holds the largest block unsharded while it computes (plus the next one, prefetched),
  in ``param_dtype`` when set, reported as ``gathered``;
* activations scale with the rows of a rank's micro-batch (``sharding.plan_split``);
  autocast's copies of the matmul weights (``dry_run.autocast_copies``) do not: every rank
  casts every weight it computes with, the whole model under FSDP too.

The device's memory is ``runtime.distributed.device_memory_gib`` when given, else the
detected CUDA device's (for a CUDA run on a CUDA machine); a plan whose per-rank total
exceeds it does not fit and ``caramba run --dry-run`` refuses it.
"""

from __future__ import annotations

import torch
from torch import nn

from caramba.engine.manifest.distributed import DistributedConfig
from caramba.engine.train.distributed.sharding import plan_split
from caramba.engine.train.distributed.strategy import shard_units


def per_rank(memory: dict[str, int], model: nn.Module, dtype_bytes: int, batch_size: int, accumulation: int,
             ranks: int, config: DistributedConfig | None) -> tuple[str, dict[str, int]]:
    """(strategy, per-rank memory by kind, with ``total``) for ``ranks`` ranks."""
    strategy = (config or DistributedConfig()).strategy if ranks > 1 else "single"
    out = {k: v for k, v in memory.items() if k != "total"}
    if ranks > 1 and "activations" in out:
        _, rows = plan_split(batch_size, accumulation, ranks)
        out["activations"] = out["activations"] * rows // batch_size
    if strategy == "ddp" and config is not None and config.gradient_as_bucket_view is False:
        out["ddp buckets"] = out["gradients"]
    if strategy == "fsdp":
        for key in ("weights", "gradients", "optimizer"):
            out[key] = -(-out[key] // ranks)
        largest = max((sum(p.numel() for p in unit.parameters()) for unit in shard_units(model)), default=0)
        gathered = getattr(torch, config.param_dtype).itemsize if config is not None and config.param_dtype else dtype_bytes
        out["gathered"] = 2 * largest * gathered
    out["total"] = sum(out.values())
    return strategy, out


def device_capacity(config: DistributedConfig | None, device: str) -> int | None:
    """Bytes of one device: the manifest's ``device_memory_gib``, else the CUDA device's, else None."""
    if config is not None and config.device_memory_gib is not None:
        return int(config.device_memory_gib * 2**30)
    if device.startswith("cuda") and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory)
    return None
