"""FSDP2 training of a model that does not fit one GPU: a few real steps on N GPUs, with
each rank's loss and peak memory against the dry run's per-rank prediction.

    python benchmarks/fsdp_big.py [--nproc 2] [--steps 6] [--eager] [--set KEY=VALUE ...] [--out results.json]

The model is ``benchmarks/gpt2_124m.yml`` scaled up by ``--set`` (default: 9.9 B
parameters — d_model 4096, 32 heads, d_ff 16384, 48 layers, global batch 4 × 1024 tokens,
``strategy: fsdp`` —, whose weights, gradients and AdamW state alone, 147 GiB, exceed one
H200; the dry run says 209.5 GiB on one process, 115.0 GiB per rank on two), trained on real
text (the bytes of Python's standard library sources as tokens).

1. This process runs caramba's dry run for one process and for ``--nproc`` ranks (on the
   meta device: nothing is allocated) and prints the per-rank memory it predicts.
2. It starts torchrun with ``--nproc`` ranks on this script. Each rank builds the model
   from the run's seed directly on its GPU, shards it and trains with the trainer's own
   parts (``Strategy.wrap`` — FSDP2 with per-block compile —, the ``Stepper`` with fused
   AdamW, bf16 autocast and gradient clipping, this rank's share of each global batch),
   then reports its loss per step, its step time and its peak memory
   (``torch.cuda.max_memory_allocated`` / ``max_memory_reserved``, reset after sharding,
   so the full model each rank builds before sharding is not counted).

This is not ``caramba run`` because of what surrounds training there: the final DCP
checkpoint of a 9.9 B model with AdamW state is ~120 GB, the final evaluation gathers the
whole weights to rank 0's CPU. The training step is the trainer's, line for line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("caramba") is None:  # a bare checkout: the repo root IS the package
    _shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
    (_shim / "caramba").symlink_to(HERE.parent, target_is_directory=True)
    sys.path.insert(0, str(_shim))

MANIFEST = HERE / "gpt2_124m.yml"
BIG = ["vars.d_model=4096", "vars.n_heads=32", "vars.d_ff=16384", "vars.n_layers=48", "vars.batch_size=4",
       "defaults.runtime.distributed.strategy=fsdp", "defaults.runtime.distributed.device_memory_gib=139.8"]
GIB = 2**30


def stdlib_tokens(path: Path) -> None:
    """The bytes of the standard library's ``.py`` files as a uint16 token file (real text, vocabulary 256)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    data = b"\n".join(p.read_bytes() for p in sorted(root.rglob("*.py"))[:4000])
    np.save(path, np.frombuffer(data, dtype=np.uint8).astype(np.uint16))


def predict(workspace: Path, sets: list[str], nproc: int) -> dict[str, dict[str, int]]:
    """The dry run's per-rank memory (bytes by kind) for one process and for ``nproc`` ranks."""
    from caramba.engine.compiler.compile import compile_manifest
    from caramba.engine.plan import dry_run

    compiled = compile_manifest(str(MANIFEST), sets, workspace)
    out = {}
    for ranks in (1, nproc):
        [plan] = dry_run(compiled, ranks=ranks)
        out[str(ranks)] = plan.runs[0].memory_bytes
        print(f"dry run, {ranks} rank(s), {plan.params_total / 1e9:.2f} B parameters: "
              + ", ".join(f"{k} {v / GIB:.2f} GiB" for k, v in plan.runs[0].memory_bytes.items())
              + (f" — REFUSED: {plan.refusals[0]}" if plan.refusals else " — fits"), flush=True)
    return out


def rank_main(workspace: Path, sets: list[str], steps: int, out: Path | None, device_type: str, eager: bool) -> None:
    """One rank: build on the GPU, shard, train ``steps`` steps, report loss and memory."""
    import torch.distributed as dist

    from caramba.engine.compiler.compile import compile_manifest
    from caramba.engine.run import build
    from caramba.engine.train.distributed import DistContext, Strategy
    from caramba.engine.train.optim import Schedule, build_optimizer
    from caramba.engine.train.precision import Precision
    from caramba.engine.train.step import Stepper, use_compile

    compiled = compile_manifest(str(MANIFEST), sets, workspace)
    target = compiled.manifest.targets[0]
    run, defaults = target.runs[0], compiled.manifest.defaults
    ctx = DistContext.start(defaults.runtime.distributed, device_type)
    device = ctx.device(torch.device(device_type))
    cuda = device.type == "cuda"
    say = (lambda text: print(text, flush=True)) if ctx.main else (lambda text: None)
    train = run.train
    precision = Precision(train, device)
    begin = time.perf_counter()
    with torch.device(device):
        model = build.build_model(target, run).to(dtype=precision.param_dtype)
    params = sum(p.numel() for p in model.parameters())
    say(f"built {params / 1e9:.2f} B parameters on each GPU in {time.perf_counter() - begin:.1f} s")
    strategy = Strategy(ctx)
    compiled_step = False if eager else use_compile(device, False, say)
    if eager:
        say("torch.compile: off (--eager: the dry run's activation estimate is the eager graph's saved tensors)")
    forward, model = strategy.wrap(model, device, compiled_step)
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    sharded = torch.cuda.memory_allocated(device) if cuda else 0
    say(f"{strategy.describe()}; sharded weights on rank 0: {sharded / GIB:.2f} GiB")
    optimizer = build_optimizer(model, train, device)
    schedule = Schedule(train.schedule, run.steps)
    stepper = Stepper(forward, build.build_component("objective", target.objective), optimizer, precision, train,
                      strategy.compiles_step(compiled_step), False, lambda last: strategy.sync(forward, last))
    dataset = build.build_dataset(target, run, defaults, workspace)
    rows = []
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * schedule.factor(step)
        batches = [strategy.load(dataset, micro, train.batch_size, device, cuda)
                   for micro in strategy.micro_batches(step, train.batch_size, train.gradient_accumulation_steps)]
        start = time.perf_counter()
        loss, norm, _, count = strategy.reduce(*stepper.step(batches))
        loss_value, norm_value = float(loss.item()), float(norm.item())
        seconds = time.perf_counter() - start
        rows.append({"step": step + 1, "loss": loss_value, "grad_norm": norm_value, "seconds": seconds, "tokens": count})
        peak = torch.cuda.max_memory_allocated(device) / GIB if cuda else 0.0
        say(f"step {step + 1}: loss {loss_value:.4f}  grad norm {norm_value:.3f}  {seconds:.2f} s  "
            f"{count / seconds:,.0f} tokens/s (all ranks)  rank 0 peak {peak:.2f} GiB")
    memory = {"rank": ctx.rank, "peak_allocated": torch.cuda.max_memory_allocated(device) if cuda else 0,
              "peak_reserved": torch.cuda.max_memory_reserved(device) if cuda else 0, "sharded_weights": sharded,
              "device_total": torch.cuda.get_device_properties(device).total_memory if cuda else 0}
    gathered: list = [None] * ctx.world_size
    dist.all_gather_object(gathered, memory, group=ctx.control)
    if ctx.main:
        for m in gathered:
            print(f"rank {m['rank']}: peak allocated {m['peak_allocated'] / GIB:.2f} GiB, peak reserved "
                  f"{m['peak_reserved'] / GIB:.2f} GiB (device {m['device_total'] / GIB:.1f} GiB)", flush=True)
        if out is not None:
            name = torch.cuda.get_device_name(device) if cuda else "cpu"
            out.write_text(json.dumps({"params": params, "steps": rows, "memory": gathered, "device": name,
                                       "torch": torch.__version__}, indent=2))


def main() -> None:
    """Dry run, then torchrun with ``--nproc`` ranks on this script, then the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nproc", type=int, default=2, help="GPUs of this host (ranks)")
    parser.add_argument("--steps", type=int, default=6, help="optimiser steps to train")
    parser.add_argument("--set", dest="sets", action="append", default=None, help="manifest overrides (default: the 9.9 B model)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--eager", action="store_true", help="no torch.compile (default: the trainer's choice)")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: a gloo smoke run (with --set for a small model)")
    parser.add_argument("--rank-of", type=Path, default=None, help=argparse.SUPPRESS)  # internal: the workspace, in a rank
    args = parser.parse_args()
    sets = args.sets if args.sets is not None else BIG
    if args.rank_of is not None:
        rank_main(args.rank_of, sets, args.steps, args.out, args.device, args.eager)
        return
    if args.device == "cuda" and torch.cuda.device_count() < args.nproc:
        sys.exit(f"this benchmark needs {args.nproc} CUDA GPUs (found {torch.cuda.device_count()})")
    from torch.distributed.run import get_args_parser, run

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        (workspace / "caramba.yml").write_text(f"memory: {{record_runs: false}}\ndata_roots: [{workspace}]\n")
        stdlib_tokens(workspace / "stdlib_tokens.npy")
        sets = [*sets, f"targets[0].data.config.path={workspace / 'stdlib_tokens.npy'}", f"vars.steps={max(args.steps, 20)}",
                "targets[0].runs[0].train.schedule.warmup_steps=2"]
        predicted = predict(workspace, sets, args.nproc)
        out = args.out.resolve() if args.out is not None else workspace / "result.json"
        command = ["--standalone", f"--nproc-per-node={args.nproc}", str(Path(__file__).resolve()), "--steps", str(args.steps), "--device", args.device, *(["--eager"] if args.eager else []),
                   "--rank-of", str(workspace), "--out", str(out), *(a for s in sets for a in ("--set", s))]
        run(get_args_parser().parse_args(command))
        result = json.loads(out.read_text())
    mine = predicted[str(args.nproc)]
    print(f"\n{result['params'] / 1e9:.2f} B parameters, FSDP2 × {args.nproc}, {result['device']}, torch {result['torch']}")
    print("| rank | predicted total | measured peak allocated | measured peak reserved |")
    print("|---|---|---|---|")
    for m in result["memory"]:
        print(f"| {m['rank']} | {mine['total'] / GIB:.2f} GiB | {m['peak_allocated'] / GIB:.2f} GiB | {m['peak_reserved'] / GIB:.2f} GiB |")
    print(f"one process would need {predicted['1']['total'] / GIB:.2f} GiB (dry run); losses: "
          + ", ".join(f"{r['loss']:.3f}" for r in result["steps"]))
    if args.out is not None:
        result["predicted"] = predicted
        result["command"] = "python benchmarks/fsdp_big.py " + " ".join(sys.argv[1:])
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
