"""DBA vs its GQA baseline: measured latency and KV-cache memory across context lengths.

The two architectures are the ``dba_vs_gqa`` preset's targets (``dba``: decoupled
semantic/geometric attention with null attention and gates; ``gqa_baseline``), with
their widths scaled for a GPU (``--scale gpu``, the default on CUDA: d_model 1024,
16 heads, 4 KV heads, 8 layers, vocab 32000, DBA sem_dim = geo_dim = d_model/4 as in
the preset) or as written (``--scale preset``, the default on the CPU). Weights are
random: latency and memory do not depend on training.

For every context L, cache kind and model: a prefill of L tokens (batch 1) and
``--new-tokens`` greedy decode steps through the engine's KV cache (the latency
benchmark: median and p90 of timed runs after warm-up), then the memory benchmark's
measurements (peak of an L-token prefill; measured bytes of the real cache tensors).

``--paths`` names the decode paths to time (``engine/infer/static/plan.py``): ``engine`` (what
the engine picks: on CUDA a static cache with the step captured in a CUDA graph), ``eager``
(the same static cache, steps launched from Python) and ``growing`` (the growing
``ModelCache``, eager: the path before static caches). Each row reports ms/token, tokens/s
and the fraction of the bandwidth bound (weights + KV history read per token over the
measured copy bandwidth).

    python benchmarks/dba_vs_gqa.py --device cuda --contexts 1024,2048,4096,8192,16384
    python benchmarks/dba_vs_gqa.py --device cuda --contexts 16384 --paths engine,growing
    python benchmarks/dba_vs_gqa.py --device cpu --contexts 64,128,256            # quick

Prints the tables and writes CSV, Markdown, LaTeX and PNG files to ``--out``
(default ``benchmarks/results/dba_vs_gqa-<device>``). bf16 weights on CUDA, fp32 on the CPU.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("caramba") is None:  # a bare checkout (not pip-installed): the repo root IS the package
    _shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
    (_shim / "caramba").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(_shim))
import yaml
from rich.console import Console
from rich.table import Table

from caramba.engine.bench.artifacts import write_artifacts
from caramba.engine.bench.latency import measure_point as latency_point
from caramba.engine.bench.memory import measure_point as memory_point
from caramba.engine.bench.results import BenchResults
from caramba.engine.compiler.compile import compile_manifest
from caramba.engine.infer import CachePolicy, probe_layout
from caramba.engine.manifest.benchmarks import CacheConfig, LatencyBenchmark, MemoryBenchmark
from caramba.engine.model.build import build_system

PRESET = ROOT / "presets" / "dba_vs_gqa.yml"
GPU_VARS = {"vocab_size": 32000, "d_model": 1024, "n_heads": 16, "n_kv_heads": 4, "d_ff": 2816, "n_layers": 8,
            "block_size": 1024}
TARGETS = {"dba": "dba", "gqa": "gqa_baseline"}
PATHS = {"engine": (True, True), "eager": (True, False), "growing": (False, False)}  # (static, capture)
console = Console(width=180)


def scaled_preset(scale: str) -> str:
    """The preset's YAML, with GPU-sized vars and DBA widths at d_model/4 (its proportion) for ``gpu``."""
    doc = yaml.safe_load(PRESET.read_text())
    if scale == "gpu":
        doc["vars"].update(GPU_VARS)
        for target in doc["targets"]:
            _scale_attention(target, GPU_VARS["d_model"] // 4)
    return yaml.safe_dump(doc, sort_keys=False)


def _scale_attention(node: Any, width: int) -> None:
    if isinstance(node, dict):
        if node.get("type") == "AttentionLayer" and node.get("mode") == "decoupled":
            node["sem_dim"] = node["geo_dim"] = width
        for value in node.values():
            _scale_attention(value, width)
    elif isinstance(node, list):
        for value in node:
            _scale_attention(value, width)


def build_models(text: str, device: torch.device, dtype: torch.dtype) -> tuple[dict[str, torch.nn.Module], str]:
    """The two models (random weights, eval mode) and the compiled manifest's sha256."""
    compiled = compile_manifest(text)
    models = {}
    for name, target_name in TARGETS.items():
        target = compiled.manifest.target(target_name)
        torch.manual_seed(0)
        models[name] = build_system(target.system.ref, target.system.config).to(device=device, dtype=dtype).eval()
    return models, compiled.digest


def run(args: argparse.Namespace) -> BenchResults:
    """Measure every (model, kind, context) point."""
    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    scale = args.scale or ("gpu" if device.type == "cuda" else "preset")
    models, digest = build_models(scaled_preset(scale), device, dtype)
    provenance_id = f"dba_vs_gqa-{scale}-{hashlib.sha256(json.dumps(vars(args), sort_keys=True, default=str).encode()).hexdigest()[:8]}"
    results = BenchResults(provenance=[(provenance_id, digest)])
    if args.block_size is None:  # the largest block ≤ 32 that divides every cached head width of both models
        widths = [t.width for m in models.values() for t in probe_layout(m, device)]
        args.block_size = math.gcd(32, *widths)
        console.print(f"q8/q4 block size {args.block_size} (largest ≤ 32 dividing head widths {sorted(set(widths))})")
    results.meta = {"device": str(device), "device_name": torch.cuda.get_device_name(device) if device.type == "cuda"
                    else "CPU", "torch": torch.__version__, "dtype": str(dtype), "scale": scale,
                    "command": "python benchmarks/dba_vs_gqa.py " + " ".join(args.argv)}
    for name, model in models.items():
        params = sum(p.numel() for p in model.parameters())
        console.print(f"[bold]{name}[/]: {params / 1e6:.1f} M parameters, {dtype}, {device}")
        for kind in args.kinds:
            cache = CacheConfig(kind=kind, block_size=args.block_size, residual_window=0)
            lat = LatencyBenchmark(prompt_lengths=args.contexts, generation_lengths=[args.new_tokens], batch_sizes=[1],
                                   warmup_runs=args.warmup, timed_runs=args.timed, cache=cache)
            mem = MemoryBenchmark(sequence_lengths=args.contexts, quantization_modes=[kind], cache=cache)
            policy = CachePolicy.from_config(cache)
            for length in args.contexts:
                with torch.no_grad():
                    for path in args.paths:
                        row = latency_point(model, model.vocab_size, length, args.new_tokens, 1, lat, policy, device,
                                            length, *PATHS[path])
                        results.add("latency", [{"benchmark": "latency", "model": name, "path": path, **row}], [])
                        console.print(f"  {kind:>4} L={length:>6} {path:>7}: decode {row['decode_ms_per_token']:.3f} "
                                      f"ms/tok, {100 * row['bandwidth_fraction']:.1f} % of the bandwidth bound "
                                      f"({row['decode_path']})")
                    row = memory_point(model, model.vocab_size, length, 1, policy, mem, device)
                    results.add("memory", [{"benchmark": "memory", "model": name, **row}], [])
                console.print(f"  {kind:>4} L={length:>6}: KV {results.rows['memory'][-1]['kv_bytes'] / 2**20:.1f} MiB")
    fp16 = {(r["model"], r["seq_len"]): r["kv_bytes"] for r in results.rows["memory"] if r["kind"] in ("fp16", "bf16")}
    for r in results.rows["memory"]:
        base = fp16.get((r["model"], r["seq_len"]))
        r["kv_vs_fp16"] = r["kv_bytes"] / base if base else None
    return results


def print_tables(results: BenchResults) -> None:
    """DBA vs GQA side by side per (kind, context, decode path)."""
    lat = {(r["model"], r["cache"], r["prompt_len"], r["path"]): r for r in results.rows["latency"]}
    mem = {(r["model"], r["cache"], r["seq_len"]): r for r in results.rows["memory"]}
    table = Table("cache", "context", "path", "GQA prefill ms", "DBA prefill ms", "GQA decode ms/tok",
                  "DBA decode ms/tok", "GQA × bound", "DBA × bound", "GQA KV MiB", "DBA KV MiB", "DBA/GQA KV",
                  "GQA peak MiB", "DBA peak MiB",
                  title="DBA vs GQA (median of timed runs; measured bytes; × bound: fraction of the bandwidth bound)")
    for (model, cache, length, path), g in lat.items():
        if model != "gqa" or ("dba", cache, length, path) not in lat:
            continue
        d, gm, dm = lat[("dba", cache, length, path)], mem[("gqa", cache, length)], mem[("dba", cache, length)]
        table.add_row(cache, f"{length:,}", path, f"{g['prefill_ms']:.1f}", f"{d['prefill_ms']:.1f}",
                      f"{g['decode_ms_per_token']:.3f}", f"{d['decode_ms_per_token']:.3f}",
                      f"{g['bandwidth_fraction']:.3f}", f"{d['bandwidth_fraction']:.3f}",
                      f"{gm['kv_bytes'] / 2**20:.3f}", f"{dm['kv_bytes'] / 2**20:.3f}", f"{dm['kv_bytes'] / gm['kv_bytes']:.2f}",
                      f"{gm['peak_bytes'] / 2**20:.0f}", f"{dm['peak_bytes'] / 2**20:.0f}")
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    """Run the DBA vs GQA benchmark (options: --help; ``argv`` as on the command line) and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--contexts", default="1024,2048,4096,8192,16384", help="comma-separated prompt lengths")
    parser.add_argument("--kinds", default=None, help="cache kinds (default: bf16,q8,q4 on CUDA, fp16,q8,q4 on the CPU)")
    parser.add_argument("--new-tokens", type=int, default=32, help="decode steps per run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--timed", type=int, default=5)
    parser.add_argument("--block-size", type=int, default=None,
                        help="q8/q4 block (default: the largest ≤ 32 dividing every head width)")
    parser.add_argument("--scale", choices=["gpu", "preset"], default=None)
    parser.add_argument("--paths", default="engine", help=f"decode paths to time, of {', '.join(PATHS)} (docstring)")
    parser.add_argument("--out", type=Path, default=None)
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    args.argv = raw
    args.contexts = [int(c) for c in args.contexts.split(",")]
    args.paths = args.paths.split(",")
    if any(p not in PATHS for p in args.paths):
        parser.error(f"--paths takes {', '.join(PATHS)}; got {','.join(args.paths)}")
    cuda = args.device.startswith("cuda")
    args.kinds = (args.kinds or ("bf16,q8,q4" if cuda else "fp16,q8,q4")).split(",")
    results = run(args)
    print_tables(results)
    out = args.out or ROOT / "benchmarks" / "results" / f"dba_vs_gqa-{'cuda' if cuda else 'cpu'}"
    files = write_artifacts(out, results)
    console.print(f"wrote {len(files)} files to {out}")


if __name__ == "__main__":
    main()
