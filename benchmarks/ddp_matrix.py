"""GPT-2 124M on one GPU and under DDP, several variants side by side in one torchrun job:
where each DDP rank's time goes, and which configuration scales best.

    python benchmarks/ddp_matrix.py [--nproc 2] [--steps 30] [--warmup 12] [--variant NAME:KEY=VALUE,...]
                                    [--profile-dir DIR] [--out results.json] [--set KEY=VALUE ...]
    # a gloo smoke run on the CPU (a tiny model, no autocast):
    python benchmarks/ddp_matrix.py --device cpu --steps 2 --warmup 1 --vocab 64 --set vars.d_model=32 \
        --set vars.n_layers=1 --set vars.n_heads=2 --set vars.d_ff=64 --set vars.block_size=32 --set vars.vocab_size=64 \
        --set targets[0].runs[0].train.use_amp=false --set targets[0].runs[0].train.device=cpu \
        --variant "d:mode=ddp,batch=4,accum=2,compile=none,profile=1" --profile-dir /tmp/prof

Every variant trains ``benchmarks/gpt2_124m.yml`` with the trainer's own parts, step for
step as ``trainer.standard`` does (the cancel agreement over gloo, this rank's
micro-batches loaded pinned, the per-micro-batch seeds, the ``Stepper``'s forward,
backward, clip and fused AdamW, the cross-rank metric reduce, the ``Recorder``), in one
process per GPU, so each variant costs its compilation and its steps — not a ``caramba
run`` each (for that, the figure users get, see ``gpt2_ddp.py``). Keys of a variant:

* ``mode`` — ``single``: each rank trains alone on its own GPU (both GPUs busy, as under
  DDP; the figure is per GPU); ``ddp``: the ranks train one model;
* ``batch``, ``accum`` — the manifest's ``batch_size`` and ``gradient_accumulation_steps``
  (the global batch; ``sharding.py`` splits it over the ranks);
* ``compile`` — ``step``: the model compiled inside DDP *and* the whole step around it
  (the trainer's choice, ``Strategy.compiles_step``; one process: the whole step);
  ``inner``: the model alone, inside DDP's wrapper, the step eager; ``none``: eager;
* ``bucket`` (MiB), ``static`` (0/1), ``optddp`` (0/1: Dynamo's DDPOptimizer, default 1);
* ``prio`` (0/1) — DDP reduces over a NCCL group whose streams have high priority, so the
  all-reduce's blocks are scheduled ahead of the backward's queued ones (gloo on the CPU);
* ``agree`` / ``reduce`` (0/1, default 1) — skip the per-step cancel agreement over gloo, or
  the cross-rank metric reduce (to see what each costs);
* ``ref`` (0/1) — nanoGPT's own model and loop instead of the trainer's (``ddp_reference.py``),
  the plain-PyTorch bar in the same job;
* ``profile`` (0/1) — three more steps under ``torch.profiler``; rank 0 writes the table
  of its kernels and ops to ``--profile-dir`` and the summary prints the GPU-busy time.

Timing: after ``--warmup`` steps (compilation included) the ranks meet, then ``--steps``
steps run between two device synchronisations; tokens/s = global tokens per step ×
steps / seconds (per GPU for ``single``). ``host ms`` is how long the host took to issue
those steps (the host runs at most about one step ahead, so it tracks the step time
whatever the limit is); ``starved`` counts, per rank, the timed steps whose host found its
GPU already idle when it began issuing them (the host, not the GPU, was the limit there —
under DDP the other rank then waits in the all-reduce).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("caramba") is None:  # a bare checkout: the repo root IS the package
    _shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
    (_shim / "caramba").symlink_to(HERE.parent, target_is_directory=True)
    sys.path.insert(0, str(_shim))

DEFAULT_VARIANTS = [  # most telling first: a call cut short still answers the main question
    "1 GPU:mode=single,batch=16,accum=2,compile=step,profile=1",
    "DDP, step compiled around DDP:mode=ddp,batch=16,accum=2,compile=step,profile=1",
    "DDP, model compiled inside DDP:mode=ddp,batch=16,accum=2,compile=inner,profile=1",
    "DDP, step compiled, NCCL high priority:mode=ddp,batch=16,accum=2,compile=step,prio=1,profile=1",
    "DDP, step compiled (repeat):mode=ddp,batch=16,accum=2,compile=step",
    "DDP, model inside (repeat):mode=ddp,batch=16,accum=2,compile=inner",
    "DDP, model inside, NCCL high priority:mode=ddp,batch=16,accum=2,compile=inner,prio=1",
    "DDP, step compiled, bucket 100 MiB:mode=ddp,batch=16,accum=2,compile=step,bucket=100",
]
KEYS = {"mode", "batch", "accum", "compile", "bucket", "static", "optddp", "prio", "profile", "agree", "reduce", "ref"}


def parse_variant(text: str) -> dict[str, Any]:
    """``NAME:KEY=VALUE,...`` → a dict with ``name`` and the keys (see the module docstring)."""
    name, _, rest = text.rpartition(":")
    spec: dict[str, Any] = {"name": name, "mode": "ddp", "batch": 16, "accum": 2, "compile": "inner", "profile": 0}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        if key not in KEYS:
            raise SystemExit(f"variant {text!r}: unknown key {key!r} (one of {sorted(KEYS)})")
        spec[key] = value if key in ("mode", "compile") else float(value) if key == "bucket" else int(value)
    if spec["mode"] not in ("single", "ddp") or spec["compile"] not in ("step", "inner", "none"):
        raise SystemExit(f"variant {text!r}: mode is single|ddp, compile is step|inner|none")
    return spec


def run_variant(spec: dict[str, Any], ctx: Any, target: Any, run: Any, dataset: Any, device: torch.device,
                steps: int, warmup: int, profile_dir: Path | None) -> dict[str, Any]:
    """Train one variant on this rank; returns its timings (see the module docstring)."""
    from caramba.engine.manifest.distributed import DistributedConfig
    from caramba.engine.run import build
    from caramba.engine.train.distributed import DistContext, Strategy
    from caramba.engine.train.metrics.recorder import Recorder
    from caramba.engine.train.optim import build_optimizer
    from caramba.engine.train.precision import Precision
    from caramba.engine.train.seeding import micro_batch_seed
    from caramba.engine.train.step import Stepper

    from ddp_profile import priority_group, profiled

    if spec.get("ref"):
        from ddp_reference import reference_variant

        return reference_variant(spec, ctx, device, steps, warmup)
    torch._dynamo.reset()
    torch._dynamo.config.optimize_ddp = bool(spec.get("optddp", 1))
    if spec["mode"] == "single":
        strategy = Strategy(DistContext())
    else:
        options = {k: v for k, v in (("bucket_cap_mb", spec.get("bucket")), ("static_graph", spec.get("static"))) if v is not None}
        group = priority_group(device) if spec.get("prio") else None
        strategy = Strategy(dataclasses.replace(ctx, config=DistributedConfig(strategy="ddp", **options), group=group))
    train, cuda = run.train, device.type == "cuda"
    precision = Precision(train, device)
    model = build.build_model(target, run).to(device=device, dtype=precision.param_dtype)
    compiled = spec["compile"] != "none"
    forward, owner = strategy.wrap(model, device, compiled)
    optimizer = build_optimizer(owner, train, device)
    objective = build.build_component("objective", target.objective)
    stepper = Stepper(forward, objective, optimizer, precision, train, spec["compile"] == "step", False,
                      lambda last: strategy.sync(forward, last))
    recorder = Recorder(device, 1.0, None, False)
    batch, accum = spec["batch"], spec["accum"]

    # ``done`` marks the end of the last step on this rank's stream; found complete when the
    # host starts issuing the next one, the GPU sat idle waiting for its host (``starved``).
    done = torch.cuda.Event() if cuda else None
    starved: list[int] = []

    def one_step(step: int) -> int:
        if spec.get("agree", 1) and strategy.ctx.any(False):  # the trainer's per-step cancel agreement
            raise RuntimeError("cancelled")
        if done is not None and step > 0:
            starved.append(int(done.query()))
        micros = strategy.micro_batches(step, batch, accum)
        batches = [strategy.load(dataset, micro, batch, device, cuda) for micro in micros]
        seeds = [micro_batch_seed(int(run.seed), micro.index, micro.rows[0]) for micro in micros]
        stepped = stepper.step(batches, seeds)
        loss, norm, metrics, count = strategy.reduce(*stepped) if spec.get("reduce", 1) else stepped
        recorder.record(step + 1, train.lr, loss, norm, metrics, count)
        if recorder.due():
            recorder.flush()
        if done is not None:
            done.record()
        return count

    sync = (lambda: torch.cuda.synchronize(device)) if cuda else (lambda: None)
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    begin = time.perf_counter()
    for step in range(warmup):
        tokens = one_step(step)
    sync()
    warm_s = time.perf_counter() - begin
    ctx.barrier()  # every rank starts timing together (single: both GPUs busy, as under DDP)
    start = time.perf_counter()
    starved.clear()
    for step in range(warmup, warmup + steps):
        one_step(step)
    issued = time.perf_counter()
    sync()
    seconds = time.perf_counter() - start
    recorder.flush()
    result = {"name": spec["name"], "rank": ctx.rank, "tokens_per_step": tokens,
              "step_ms": seconds / steps * 1e3, "host_ms": (issued - start) / steps * 1e3, "warmup_s": warm_s,
              "tokens_per_s": tokens / (seconds / steps), "starved_steps": sum(starved) if cuda else "—",
              "peak_gib": torch.cuda.max_memory_allocated(device) / 2**30 if cuda else 0.0}
    if spec.get("profile"):
        result.update(profiled(one_step, warmup + steps, device, spec["name"], ctx.rank, profile_dir))
    del forward, owner, model, optimizer, stepper
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    torch._dynamo.config.optimize_ddp = True
    return result


def rank_main(args: argparse.Namespace) -> None:
    """One rank: every variant in turn; rank 0 prints the table and writes the JSON."""
    import torch.distributed as dist

    from caramba.engine.compiler.compile import compile_manifest
    from caramba.engine.manifest.distributed import DistributedConfig
    from caramba.engine.run import build
    from caramba.engine.train.distributed import DistContext
    from caramba.engine.train.step import use_compile

    workspace = args.rank_of
    compiled = compile_manifest(str(HERE / "gpt2_124m.yml"), args.sets, workspace)
    target = compiled.manifest.targets[0]
    run, defaults = target.runs[0], compiled.manifest.defaults
    ctx = DistContext.start(DistributedConfig(strategy="ddp"), args.device)
    device = ctx.device(torch.device(args.device))
    say = (lambda text: print(text, flush=True)) if ctx.main else (lambda text: None)
    if args.device == "cuda":
        use_compile(device, False, say)  # the trainer's CUDA math flags (TF32, cuDNN benchmark)
    dataset = build.build_dataset(target, run, defaults, workspace)
    results = []
    for text in args.variant or DEFAULT_VARIANTS:
        spec = parse_variant(text)
        say(f"— {spec['name']} …")
        mine = run_variant(spec, ctx, target, run, dataset, device, args.steps, args.warmup, args.profile_dir)
        gathered: list[Any] = [None] * ctx.world_size
        dist.all_gather_object(gathered, mine, group=ctx.control)
        results.append({"spec": spec, "ranks": gathered})
        say("  " + "; ".join(f"rank {r['rank']}: {r['tokens_per_s']:,.0f} tokens/s, {r['step_ms']:.1f} ms/step "
                             f"(host {r['host_ms']:.1f}), warm-up {r['warmup_s']:.0f} s" for r in gathered))
    if ctx.main:
        report(results, args.out)


def report(results: list[dict[str, Any]], out: Path | None) -> None:
    """The table: each variant's tokens/s (DDP: all ranks; single: per GPU) and its ratio to the first variant."""
    def rate(entry: dict[str, Any]) -> float:
        return float(np.mean([r["tokens_per_s"] for r in entry["ranks"]])) if entry["spec"]["mode"] == "single" \
            else entry["ranks"][0]["tokens_per_s"]

    reference = rate(results[0])
    print(f"\n| variant | tokens/s | × {results[0]['spec']['name']} | ms/step | host ms | starved steps per rank | "
          "GPU compute ms | NCCL ms | peak GiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for entry in results:
        r0 = entry["ranks"][0]
        busy = (f"{r0['gpu_compute_ms']:.1f} | {r0['gpu_nccl_ms']:.1f}" if "gpu_compute_ms" in r0 else "— | —")
        starved = "/".join(str(r.get("starved_steps", "—")) for r in entry["ranks"])
        print(f"| {entry['spec']['name']} | {rate(entry):,.0f} | {rate(entry) / reference:.3f} | {r0['step_ms']:.1f} | "
              f"{r0['host_ms']:.1f} | {starved} | {busy} | {r0['peak_gib']:.1f} |")
    if out is not None:
        out.write_text(json.dumps({"device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
                                   "torch": torch.__version__, "results": results,
                                   "command": "python benchmarks/ddp_matrix.py " + " ".join(sys.argv[1:])}, indent=2))


def main() -> None:
    """torchrun with ``--nproc`` ranks on this script (or, inside torchrun, one rank)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nproc", type=int, default=2, help="GPUs of this host (ranks)")
    parser.add_argument("--steps", type=int, default=30, help="timed optimiser steps per variant")
    parser.add_argument("--warmup", type=int, default=12, help="untimed steps per variant (compilation included)")
    parser.add_argument("--variant", action="append", default=None, help="NAME:KEY=VALUE,... (repeat; default: the built-in matrix)")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="manifest overrides (e.g. a small model for --device cpu)")
    parser.add_argument("--vocab", type=int, default=50257, help="token ids of the synthetic data are below this")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: a gloo smoke run")
    parser.add_argument("--profile-dir", type=Path, default=None, help="where rank 0 writes the profiled variants' op tables")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--rank-of", type=Path, default=None, help=argparse.SUPPRESS)  # internal: the workspace, in a rank
    args = parser.parse_args()
    if "LOCAL_RANK" in os.environ:
        rank_main(args)
        return
    if args.device == "cuda" and torch.cuda.device_count() < args.nproc:
        sys.exit(f"this benchmark needs {args.nproc} CUDA GPUs (found {torch.cuda.device_count()})")
    for text in args.variant or DEFAULT_VARIANTS:
        parse_variant(text)  # a typo fails here, before any rank starts
    from torch.distributed.run import get_args_parser, run

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        (workspace / "caramba.yml").write_text(f"memory: {{record_runs: false}}\ndata_roots: [{workspace}]\n")
        np.save(workspace / "tokens.npy", np.random.default_rng(0).integers(0, args.vocab, 20_000_000, dtype=np.uint16))
        sets = [f"targets[0].data.config.path={workspace / 'tokens.npy'}", "vars.steps=1000", *args.sets]
        forwarded = [a for s in sets for a in ("--set", s)]
        forwarded += [a for v in (args.variant or []) for a in ("--variant", v)]
        for flag, value in (("--profile-dir", args.profile_dir), ("--out", args.out)):
            if value is not None:
                forwarded += [flag, str(value.resolve())]
        run(get_args_parser().parse_args(["--standalone", f"--nproc-per-node={args.nproc}", str(Path(__file__).resolve()),
                                          "--steps", str(args.steps), "--warmup", str(args.warmup), "--device", args.device,
                                          "--rank-of", str(workspace), *forwarded]))


if __name__ == "__main__":
    main()
