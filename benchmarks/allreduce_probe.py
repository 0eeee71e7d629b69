"""The link between this host's GPUs, as DDP sees it: NCCL all-reduce time of one gradient-sized buffer.

    python benchmarks/allreduce_probe.py [--gpus 2] [--mib 474] [--dtype float32]

Starts ``--gpus`` ranks through torchrun; each all-reduces a ``--mib`` MiB buffer (default:
GPT-2 124M's fp32 gradients) after warm-ups, timed with CUDA events, median of 10.
Prints the time, the algorithm bandwidth (bytes / time) and the bus bandwidth (NCCL's
convention, × 2(n−1)/n), which says whether the GPUs talk over NVLink (hundreds of GB/s)
or PCIe / host memory (tens).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import torch


def rank_main(mib: float, dtype: torch.dtype) -> None:
    """One rank: all-reduce ``mib`` MiB ten times, rank 0 prints the median."""
    import torch.distributed as dist

    local = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local)
    dist.init_process_group("nccl", device_id=torch.device("cuda", local))
    world = dist.get_world_size()
    buffer = torch.randn(int(mib * 2**20) // dtype.itemsize, device="cuda").to(dtype)
    times = []
    for index in range(13):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        dist.all_reduce(buffer)
        end.record()
        torch.cuda.synchronize()
        if index >= 3:
            times.append(start.elapsed_time(end) / 1e3)
    seconds = statistics.median(times)
    size = buffer.numel() * buffer.element_size()
    if dist.get_rank() == 0:
        print(f"all-reduce of {size / 2**20:.0f} MiB {str(dtype).removeprefix('torch.')} over {world} GPUs: "
              f"{seconds * 1e3:.2f} ms median of {len(times)}, algbw {size / seconds / 1e9:.1f} GB/s, "
              f"busbw {size / seconds / 1e9 * 2 * (world - 1) / world:.1f} GB/s", flush=True)
    dist.destroy_process_group()


def main() -> None:
    """torchrun with ``--gpus`` ranks on this script (or, inside torchrun, one rank)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpus", type=int, default=2)
    parser.add_argument("--mib", type=float, default=474.0, help="buffer size in MiB (474: 124.4 M fp32 gradients)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()
    if "LOCAL_RANK" in os.environ:
        rank_main(args.mib, getattr(torch, args.dtype))
        return
    if torch.cuda.device_count() < args.gpus:
        sys.exit(f"this probe needs {args.gpus} CUDA GPUs (found {torch.cuda.device_count()})")
    from torch.distributed.run import get_args_parser, run

    run(get_args_parser().parse_args(["--standalone", f"--nproc-per-node={args.gpus}", __file__, *sys.argv[1:]]))


if __name__ == "__main__":
    main()
