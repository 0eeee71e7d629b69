"""The plain-PyTorch reference of ``ddp_matrix.py``: nanoGPT's GPT-2 124M and training step, alone or under DDP.

The model is ``gpt2_h100.py``'s condensed nanoGPT (``model.py``); the step is nanoGPT's
``train.py``: ``DDP(torch.compile(model))``, bf16 autocast, ``no_sync`` on every
micro-batch but the last, clip at 1.0, fused AdamW, a loss read back every 10 steps.
Token ids are drawn on the device (no loader), so the reference's host does strictly less
than caramba's trainer. Measured in the same job as the trainer's variants, it says how
far this host and interconnect let plain DDP scale, which is the bar caramba's DDP is held to.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gpt2_h100 import BLOCK, GPT, VOCAB, nanogpt_optimizer, nanogpt_update  # noqa: E402


def reference_variant(spec: dict[str, Any], ctx: Any, device: torch.device, steps: int, warmup: int) -> dict[str, Any]:
    """nanoGPT's loop on this rank (``mode=single``: alone; ``ddp``: DDP over every rank); its timings."""
    from torch.nn.parallel import DistributedDataParallel

    torch._dynamo.reset()
    model = GPT().to(device)
    opt = nanogpt_optimizer(model)
    forward: Any = torch.compile(model)
    ddp = spec["mode"] == "ddp"
    if ddp:
        forward = DistributedDataParallel(forward, device_ids=[device.index])
    batch, accum = spec["batch"], spec["accum"] // (ctx.world_size if ddp else 1)
    done, starved = torch.cuda.Event(), []

    def one_step(step: int) -> int:
        if step > 0:
            starved.append(int(done.query()))
        for micro in range(accum):
            x = torch.randint(VOCAB, (batch, BLOCK), device=device)
            sync = forward.no_sync() if ddp and micro < accum - 1 else contextlib.nullcontext()
            with sync:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    loss = forward(x, x) / accum
                loss.backward()
        nanogpt_update(model, opt, loss, step)
        done.record()
        return batch * BLOCK * accum * (ctx.world_size if ddp else 1)

    begin = time.perf_counter()
    for step in range(warmup):
        tokens = one_step(step)
    torch.cuda.synchronize(device)
    warm_s = time.perf_counter() - begin
    ctx.barrier()
    start = time.perf_counter()
    starved.clear()
    for step in range(warmup, warmup + steps):
        one_step(step)
    issued = time.perf_counter()
    torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return {"name": spec["name"], "rank": ctx.rank, "tokens_per_step": tokens, "step_ms": seconds / steps * 1e3,
            "host_ms": (issued - start) / steps * 1e3, "warmup_s": warm_s, "tokens_per_s": tokens / (seconds / steps),
            "starved_steps": sum(starved), "peak_gib": torch.cuda.max_memory_allocated(device) / 2**30}
