"""GPT-2 124M scaling: one GPU vs DDP (and FSDP2) on N GPUs of one host, same global batch.

Every configuration trains ``benchmarks/gpt2_124m.yml`` (bf16 autocast, fused AdamW,
torch.compile by capability detection) through the real ``caramba run`` command, in
this call, on the same synthetic token file, with the same global batch of
``batch × N`` sequences of 1024 tokens per optimiser step:

* **1 GPU** — ``trainer.standard`` alone, micro-batch ``batch``, ``N`` accumulation steps;
* **DDP × N** — ``caramba run --nproc N`` with ``runtime.distributed.strategy: ddp``:
  each rank one micro-batch of ``batch``;
* **DDP × N, bf16 reduce** (``--bf16-reduce``) — DDP with ``reduce_dtype: bfloat16`` (each
  gradient bucket all-reduced in bf16: half the bytes on the link);
* **FSDP × N** (``--fsdp``) — the same with ``strategy: fsdp``, bf16 parameters
  (``param_dtype: bfloat16``) and fp32 gradient reduction (``reduce_dtype: float32``),
  each block compiled before it is sharded.

Tokens/s are steady-state (rank 0's metrics after ``--warmup`` steps, which include
compilation); the table prints each configuration's ratio to the single GPU.

    python benchmarks/gpt2_ddp.py [--gpus 2] [--steps 40] [--warmup 15] [--batch 16] [--bf16-reduce] [--fsdp] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from timing import steady_rate  # noqa: E402

BLOCK = 1024


def train(workspace: Path, data: Path, batch: int, accumulation: int, steps: int, nproc: int | None,
          options: dict[str, str]) -> Path:
    """One ``caramba run`` of the GPT-2 manifest (``options``: its ``runtime.distributed``); returns its run directory."""
    sets = [f"vars.steps={steps}", f"vars.batch_size={batch}", f"targets[0].data.config.path={data}",
            f"targets[0].runs[0].train.gradient_accumulation_steps={accumulation}"]
    sets += [f"defaults.runtime.distributed.{key}={value}" for key, value in options.items()]
    workspace.mkdir(parents=True)
    # A throughput benchmark: the end-of-run memory hook (embedder load, graph writes) is
    # not training and would only delay the next configuration.
    # The token file is shared by every configuration, outside each workspace: a data root.
    (workspace / "caramba.yml").write_text(f"memory: {{record_runs: false}}\ndata_roots: [{data.parent}]\n")
    command = [sys.executable, "-m", "caramba", "run", str(HERE / "gpt2_124m.yml"), *(a for s in sets for a in ("--set", s))]
    if nproc is not None:
        command += ["--nproc", str(nproc)]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, cwd=workspace, check=True)
    [run_dir] = list((workspace / ".caramba" / "runs").iterdir())
    return run_dir


def main() -> None:
    """Train each configuration and print the scaling table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpus", type=int, default=2, help="GPUs of this host for the distributed runs")
    parser.add_argument("--steps", type=int, default=40, help="optimiser steps per run (warm-up included)")
    parser.add_argument("--warmup", type=int, default=15, help="untimed steps (compilation, allocator warm-up)")
    parser.add_argument("--batch", type=int, default=16, help="sequences of 1024 tokens per micro-batch (per GPU)")
    parser.add_argument("--bf16-reduce", action="store_true", help="also run DDP with reduce_dtype bfloat16")
    parser.add_argument("--fsdp", action="store_true", help="also run FSDP2 (bf16 params, fp32 reduce) on the same GPUs")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    if torch.cuda.device_count() < args.gpus:
        sys.exit(f"this benchmark needs {args.gpus} CUDA GPUs (found {torch.cuda.device_count()})")
    global_batch = args.batch * args.gpus
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "gpt2_tokens.npy"
        np.save(data, np.random.default_rng(0).integers(0, 50257, 20_000_000, dtype=np.uint16))
        configs: list[tuple[str, int | None, dict[str, str], int]] = [
            ("1 GPU (trainer.standard)", None, {}, args.gpus), (f"DDP × {args.gpus}", args.gpus, {"strategy": "ddp"}, 1)]
        if args.bf16_reduce:
            configs.append((f"DDP × {args.gpus}, bf16 reduce", args.gpus, {"strategy": "ddp", "reduce_dtype": "bfloat16"}, 1))
        if args.fsdp:
            configs.append((f"FSDP2 × {args.gpus}, bf16 params", args.gpus,
                            {"strategy": "fsdp", "param_dtype": "bfloat16", "reduce_dtype": "float32"}, 1))
        for index, (label, nproc, options, accumulation) in enumerate(configs):
            run_dir = train(Path(tmp) / f"ws{index}", data, args.batch, accumulation, args.steps, nproc, options)
            steps_per_s = steady_rate(run_dir / "metrics.jsonl", args.warmup)[0]
            rows.append((label, steps_per_s * global_batch * BLOCK))
            print(f"measured: {label}: {rows[-1][1]:,.0f} tokens/s ({rows[-1][1] / rows[0][1]:.3f} × 1 GPU)", flush=True)
    single = rows[0][1]
    name = torch.cuda.get_device_name(0)
    print(f"\nGPT-2 124M, global batch {global_batch}×{BLOCK} per step, bf16 autocast, {name}, torch {torch.__version__}")
    print(f"| {'configuration':30} | {'tokens/s':>10} | {'× 1 GPU':>7} |")
    print(f"|{'-' * 32}|{'-' * 12}|{'-' * 9}|")
    for label, rate in rows:
        print(f"| {label:30} | {rate:10,.0f} | {rate / single:7.3f} |")
    if args.out is not None:
        args.out.write_text(json.dumps({"device": name, "torch": torch.__version__, "global_batch": global_batch,
                                        "rows": rows, "command": "python benchmarks/gpt2_ddp.py " + " ".join(sys.argv[1:]),
                                        "env": {k: os.environ.get(k) for k in ("NCCL_NVLS_ENABLE",)}}, indent=2))


if __name__ == "__main__":
    main()
