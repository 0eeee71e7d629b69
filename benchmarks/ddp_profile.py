"""Two helpers of ``ddp_matrix.py``: a high-priority NCCL group for DDP, and a short profile of a variant.

``profiled`` runs three more steps under ``torch.profiler`` and returns the GPU-busy
milliseconds per step (compute kernels and NCCL kernels apart); rank 0 writes its
kernel/op table sorted by device time, and every rank its table sorted by host (CPU) time,
which is where a host-bound DDP step shows its cost (Inductor's wrappers, kernel launches,
DDP's hooks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def priority_group(device: torch.device) -> Any:
    """A new group of every rank for the gradient all-reduce: NCCL with high-priority streams (gloo on the CPU)."""
    import torch.distributed as dist

    if device.type != "cuda":
        return dist.new_group(backend="gloo")
    options = dist.ProcessGroupNCCL.Options(is_high_priority_stream=True)
    return dist.new_group(backend="nccl", pg_options=options)


def profiled(one_step: Any, first: int, device: torch.device, name: str, rank: int, folder: Path | None) -> dict[str, float]:
    """Three steps under torch.profiler: GPU-busy ms per step (compute, NCCL) and, on rank 0, the op table."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for step in range(first, first + 3):
            one_step(step)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    averages = prof.key_averages()
    kernel_us = {"nccl": 0.0, "compute": 0.0}
    for event in averages:  # kernels only: not the GPU-side ranges of record_function annotations
        busy = getattr(event, "self_device_time_total", 0.0)
        if busy and event.device_type.name == "CUDA" and not getattr(event, "is_user_annotation", False) \
                and ":" not in event.key and not event.key.startswith("DistributedDataParallel"):
            kernel_us["nccl" if event.key.lower().startswith("nccl") else "compute"] += busy
    if rank == 0 and folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")[:40]
        sort = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
        (folder / f"profile_{slug}.txt").write_text(averages.table(sort_by=sort, row_limit=30, max_name_column_width=70))
    if folder is not None:  # where the host's time goes, on every rank
        folder.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")[:40]
        (folder / f"cpu_{slug}_rank{rank}.txt").write_text(
            averages.table(sort_by="self_cpu_time_total", row_limit=40, max_name_column_width=70))
    return {"gpu_compute_ms": kernel_us["compute"] / 3e3, "gpu_nccl_ms": kernel_us["nccl"] / 3e3}
