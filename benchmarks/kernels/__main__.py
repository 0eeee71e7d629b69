"""Kernel benchmark: caramba's Triton kernels vs PyTorch eager vs torch.compile vs Liger-Kernel.

One table per op (the op names of ``caramba.kernels``), every implementation measured in
this process on the same inputs, bf16, at the shapes of issue 20:

* ``rms_norm`` / ``layer_norm``: 16384 × 4096;  ``glu`` (SwiGLU): 8192 × 11008;
* ``rope``: q (4, 32, 4096, 128), k (4, 8, 4096, 128) (Llama-3-8B heads, 4 × 4096 tokens);
* ``linear_cross_entropy``: 8192 tokens × 2048 → 128,256 vocab, and GPT-2 124M's 16384 × 768 → 50,304;
* ``sdpa``: causal attention through each SDPA backend (cuDNN, flash, efficient) at GPT-2's
  heads (16 × 12 × 1024 × 64) and at d=128 (``sdpa.py``);
* ``dba_attention``: DBA's attention op (Triton kernel vs its SDPA path vs cuDNN/flash SDPA of a
  standard attention of the same heads and q/k width vs the GQA baseline's) and one DBA vs one
  GQA attention layer, at 2k–16k (``dba_attention.py``);
* ``kv_decode``: one decode step over an 8192-token q8/q4 cache vs fp16 SDPA (B 8, H 32, H_kv 8, D 128).

Times are the lower of two medians of ``triton.testing.do_bench`` (CUDA events). "fwd+bwd" is one forward
and one backward producing every input gradient (``torch.autograd.grad``); for ``rope``,
whose forward rotates in place, the forward (no grad) and the backward (graph retained)
are timed apart and summed. "fwd+bwd graph ms" replays the same fwd+bwd from a CUDA graph:
the GPU time alone, without the host's launch overhead (which bounds a ~0.3 ms fwd+bwd
launched from Python). Effective bandwidth counts each tensor the op must read or
write once (norms: x, y forward; dy, x, dx backward — the 5·M·N convention of Liger's
benchmarks); ``linear_cross_entropy`` reports TFLOP/s at 6·N·D·V. Peak is the extra
device memory of one fwd+bwd over what its inputs already hold. The device's copy
bandwidth (read + write) and bf16 matmul rate are measured first as ceilings.
Liger-Kernel is optional (installed for the benchmark only): the first line says whether it
was imported (and its version); absent, that line and its rows say so.

One module per op beside the shared ``runner.py`` (timing, peak memory, graph replay,
ceilings, tables); this file is the command line:

    python benchmarks/kernels [--ops rms_norm,glu,...] [--csv results.csv]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("caramba") is None:  # a bare checkout (not pip-installed): the repo root IS the package
    _shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
    (_shim / "caramba").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(_shim))

import dba_attention  # noqa: E402  (the op modules sit beside this file, on sys.path[0])
import glu  # noqa: E402
import kv_decode  # noqa: E402
import layer_norm  # noqa: E402
import linear_cross_entropy  # noqa: E402
import rms_norm  # noqa: E402
import rope  # noqa: E402
import sdpa  # noqa: E402
from runner import ceilings, liger_status, table  # noqa: E402

OPS = ("rms_norm", "layer_norm", "glu", "rope", "linear_cross_entropy", "sdpa", "dba_attention", "kv_decode")
TITLES = {
    "linear_cross_entropy": " (TB/s columns are TFLOP/s; fwd is part of fwd+bwd)",
    "sdpa": " (causal; TB/s columns are TFLOP/s: 2·B·H·T²·D forward, 3.5× that fwd+bwd; × ref: SDPA's default)",
    "dba_attention": " (batch 1, 16 heads, 4 KV heads; × ref: the first SDPA standard-attention row over the row's)",
    "dba_layer": " (one attention layer, batch 1; × ref: GQA's time over the row's)",
    "kv_decode": " (fwd = launched, fwd+bwd = CUDA-graph replay; ref = fp16 SDPA over a dense cache)",
    "kv_decode_dba": " (DBA, batch 1, 16 heads / 4 KV heads; fwd = launched, fwd+bwd = graph replay)",
}
REFERENCE = {"sdpa": "default", "dba_attention": "standard attn", "dba_layer": "GQA", "kv_decode": "eager", "kv_decode_dba": "eager"}


def run(op: str, args: argparse.Namespace) -> list[dict[str, object]]:
    """The rows of one op's table(s)."""
    listed = lambda text: [x for x in text.split(",") if x]  # noqa: E731
    if op in ("rms_norm", "layer_norm", "glu", "rope", "sdpa"):
        return {"rms_norm": rms_norm, "layer_norm": layer_norm, "glu": glu, "rope": rope, "sdpa": sdpa}[op].rows()
    if op == "linear_cross_entropy":
        return linear_cross_entropy.rows([int(c) for c in listed(args.chunks)])
    if op == "dba_attention":
        return dba_attention.rows([int(c) for c in listed(args.contexts)], listed(args.dba_configs))
    if op == "kv_decode":
        return kv_decode.rows(configs=listed(args.decode_configs)) + kv_decode.dba_rows()
    raise SystemExit(f"unknown op {op!r}; valid: {', '.join(OPS)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--contexts", default="2048,4096,8192,16384", help="dba_attention context lengths")
    parser.add_argument("--dba-configs", default="", help="extra dba_attention kernel configs BLOCK:warps:stages[:per-head],…")
    parser.add_argument("--decode-configs", default="",
                        help="extra kv_decode configs BLOCK_N:tokens per program:warps:stages,…")
    parser.add_argument("--chunks", default="0,512", help="linear_cross_entropy rows per chunk (0: default)")
    parser.add_argument("--csv", type=Path, default=None, help="also write every row here")
    parser.add_argument("--dba-profile", type=Path, default=None,
                        help="also write torch.profiler tables of the DBA and GQA layers' prefill here")
    args = parser.parse_args(argv)
    unknown = [op for op in args.ops.split(",") if op not in OPS]
    if unknown:
        print(f"unknown op(s) {', '.join(unknown)}; valid: {', '.join(OPS)}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("benchmarks/kernels needs a CUDA device (the kernels are checked on the CPU by tests/kernels)",
              file=sys.stderr)
        return 2
    import triton

    copy, flops = ceilings()
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}; "
          f"measured ceilings: copy {copy:.2f} TB/s (read + write), bf16 matmul {flops:.0f} TFLOP/s", flush=True)
    print(liger_status(), flush=True)
    rows: list[dict[str, object]] = []
    for op in args.ops.split(","):
        result = run(op, args)
        for name in dict.fromkeys(str(r["op"]) for r in result):  # one table per op (per context for DBA)
            family = name.split(" ")[0]
            table(name + TITLES.get(family, ""), [r for r in result if r["op"] == name], REFERENCE.get(family, "eager"))
        sys.stdout.flush()
        rows += result
        torch.cuda.empty_cache()
    if args.dba_profile:
        contexts = [int(c) for c in args.contexts.split(",") if c]
        dba_attention.profile(max(contexts), min(contexts), str(args.dba_profile))
    if args.csv:
        keys = sorted({k for r in rows for k in r})
        with args.csv.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
