"""GPT-2 124M scaling: one GPU vs DDP (and FSDP2) on N GPUs of one host, same manifest, same global batch.

Every configuration trains ``benchmarks/gpt2_124m.yml`` (bf16 autocast, fused AdamW,
torch.compile by capability detection) through the real ``caramba run`` command, in
this call, on the same synthetic token file, with the same manifest: micro-batch
``batch`` × ``N`` accumulation steps = ``batch × N`` sequences of 1024 tokens per
optimiser step, whatever runs it:

* **1 GPU** — ``trainer.standard`` alone: ``N`` micro-batches of ``batch`` per step;
* **DDP × N** — ``caramba run --nproc N`` with ``runtime.distributed.strategy: ddp``:
  each rank one whole micro-batch of ``batch`` (``sharding.py``: N divides the
  accumulation steps);
* **DDP × N, KEY=VALUE,…** (``--ddp-variant``, repeatable) — DDP with those
  ``runtime.distributed`` options (``bucket_cap_mb=100``, ``static_graph=true``, …);
* **DDP × N, bf16 reduce** (``--bf16-reduce``) — DDP with ``reduce_dtype: bfloat16``;
* **FSDP × N** (``--fsdp``) — ``strategy: fsdp``, bf16 parameters (``param_dtype:
  bfloat16``) and fp32 gradient reduction, each block compiled before it is sharded.

Tokens/s are steady-state: optimiser steps/s between rank 0's metric flushes after
``--warmup`` steps (which include compilation) × the global tokens per step. The run's
own figure (``tokens_per_s`` of its metrics, counted from the tokens each rank trained)
is printed beside it: the two disagree when the global batch is not what the table
assumes. The table prints each configuration's ratio to the single GPU.

    python benchmarks/gpt2_ddp.py [--gpus 2] [--steps 40] [--warmup 15] [--batch 16] [--ddp-variant K=V,...]
                                  [--bf16-reduce] [--fsdp] [--out results.json]

``ddp_matrix.py`` measures variants faster (one torchrun job, the trainer's parts) and
says where each rank's time goes.
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
          options: dict[str, str], extra: list[str]) -> Path:
    """One ``caramba run`` of the GPT-2 manifest (``options``: its ``runtime.distributed``); returns its run directory."""
    sets = [f"vars.steps={steps}", f"vars.batch_size={batch}", f"targets[0].data.config.path={data}",
            f"targets[0].runs[0].train.gradient_accumulation_steps={accumulation}"]
    sets += [f"defaults.runtime.distributed.{key}={value}" for key, value in options.items()] + extra
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


def own_rate(metrics: Path, warmup: int) -> float:
    """The run's own tokens/s (its metrics' ``tokens_per_s``, from the tokens the ranks trained): median after ``warmup``."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    rates = [r["tokens_per_s"] for r in rows if r["kind"] == "train" and r["step"] > warmup]
    return float(np.median(rates)) if rates else float("nan")


def main() -> None:
    """Train each configuration and print the scaling table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpus", type=int, default=2, help="GPUs of this host for the distributed runs")
    parser.add_argument("--steps", type=int, default=40, help="optimiser steps per run (warm-up included)")
    parser.add_argument("--warmup", type=int, default=15, help="untimed steps (compilation, allocator warm-up)")
    parser.add_argument("--batch", type=int, default=16, help="sequences of 1024 tokens per micro-batch (per GPU)")
    parser.add_argument("--ddp-variant", action="append", default=[], metavar="KEY=VALUE,...",
                        help="also run DDP with these runtime.distributed options (repeatable)")
    parser.add_argument("--bf16-reduce", action="store_true", help="also run DDP with reduce_dtype bfloat16")
    parser.add_argument("--fsdp", action="store_true", help="also run FSDP2 (bf16 params, fp32 reduce) on the same GPUs")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="more manifest overrides (every row)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    if torch.cuda.device_count() < args.gpus:
        sys.exit(f"this benchmark needs {args.gpus} CUDA GPUs (found {torch.cuda.device_count()})")
    global_batch = args.batch * args.gpus
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "gpt2_tokens.npy"
        np.save(data, np.random.default_rng(0).integers(0, 50257, 20_000_000, dtype=np.uint16))
        # One manifest for every row: micro-batch ``batch`` × ``gpus`` accumulation steps.
        configs: list[tuple[str, int | None, dict[str, str]]] = [
            ("1 GPU (trainer.standard)", None, {}), (f"DDP × {args.gpus}", args.gpus, {"strategy": "ddp"})]
        for variant in args.ddp_variant:
            options = dict(item.split("=", 1) for item in variant.split(",") if item)
            configs.append((f"DDP × {args.gpus}, {variant}", args.gpus, {"strategy": "ddp", **options}))
        if args.bf16_reduce:
            configs.append((f"DDP × {args.gpus}, bf16 reduce", args.gpus, {"strategy": "ddp", "reduce_dtype": "bfloat16"}))
        if args.fsdp:
            configs.append((f"FSDP2 × {args.gpus}, bf16 params", args.gpus,
                            {"strategy": "fsdp", "param_dtype": "bfloat16", "reduce_dtype": "float32"}))
        for index, (label, nproc, options) in enumerate(configs):
            run_dir = train(Path(tmp) / f"ws{index}", data, args.batch, args.gpus, args.steps, nproc, options, args.sets)
            steps_per_s = steady_rate(run_dir / "metrics.jsonl", args.warmup)[0]
            rows.append((label, steps_per_s * global_batch * BLOCK, own_rate(run_dir / "metrics.jsonl", args.warmup)))
            print(f"measured: {label}: {rows[-1][1]:,.0f} tokens/s ({rows[-1][1] / rows[0][1]:.3f} × 1 GPU; "
                  f"the run's own figure {rows[-1][2]:,.0f})", flush=True)
    single = rows[0][1]
    name = torch.cuda.get_device_name(0)
    print(f"\nGPT-2 124M, global batch {global_batch}×{BLOCK} per step, bf16 autocast, {name}, torch {torch.__version__}")
    print(f"| {'configuration':40} | {'tokens/s':>10} | {'× 1 GPU':>7} | {'run own':>10} |")
    print(f"|{'-' * 42}|{'-' * 12}|{'-' * 9}|{'-' * 12}|")
    for label, rate, own in rows:
        print(f"| {label:40} | {rate:10,.0f} | {rate / single:7.3f} | {own:10,.0f} |")
    for label, rate, own in rows:
        if abs(own / rate - 1) > 0.05:
            print(f"WARNING: {label}: the run counted {own:,.0f} tokens/s, the table {rate:,.0f}: its global batch or "
                  f"block is not the {global_batch} × {BLOCK} tokens this table assumes")
    if args.out is not None:
        args.out.write_text(json.dumps({"device": name, "torch": torch.__version__, "global_batch": global_batch,
                                        "rows": rows, "command": "python benchmarks/gpt2_ddp.py " + " ".join(sys.argv[1:]),
                                        "env": {k: os.environ.get(k) for k in ("NCCL_NVLS_ENABLE",)}}, indent=2))


if __name__ == "__main__":
    main()
