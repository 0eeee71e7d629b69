"""Registers and spills of the DBA attention kernels, compiled for an H100/H200 (sm_90) on any machine.

Needs no GPU: Triton compiles each kernel for the target and ``cuobjdump`` (shipped with
Triton) reads the cubin's resource usage. A kernel whose per-thread registers reach 255
and that shows a STACK of more than a few bytes spills to local memory in its inner loop,
which bounds it before any launch configuration is timed. Launch configuration as
``kernel._config`` picks on a GPU (BLOCK 64, 3 stages), bf16 inputs, DBA's 16 + 16 q/k and
64 v per head, causal:

    python benchmarks/kernels/dba_resources.py [--warps 4,8]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("caramba") is None:  # a bare checkout: the repo root IS the package
    shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
    (shim / "caramba").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(shim))

from caramba.kernels.dba_attention import backward, kernel  # noqa: E402

KERNELS = {"forward": (kernel._forward_kernel, "QS QG KS KG V O LSE"),
           "dk/dv": (backward.dkdv_kernel, "QS QG KS KG V DO LSE DELTA DKS DKG DV_"),
           "dq": (backward.dq_kernel, "QS QG KS KG V DO LSE DELTA DQS DQG")}
META = {"CAUSAL": True, "IEEE": False, "PER_HEAD": False, "BLOCK_M": 64, "BLOCK_N": 64, "BS": 16, "BG": 16, "BV": 64}


def usage(fn, pointers: str, warps: int, stages: int) -> str:
    """cuobjdump's resource line (REG, STACK, SHARED, …) of ``fn`` compiled for sm_90."""
    consts = {k: v for k, v in META.items() if k in fn.arg_names}
    floats = {"LSE", "DELTA", "a", "b", "a2", "b2"}
    signature = {n: "constexpr" if n in consts else ("*fp32" if n in floats and n.isupper() else "*bf16")
                 if n in pointers.split() else ("fp32" if n in floats else "i32") for n in fn.arg_names}
    compiled = triton.compile(ASTSource(fn=fn, signature=signature, constexprs=consts), target=GPUTarget("cuda", 90, 32),
                              options={"num_warps": warps, "num_stages": stages})
    with tempfile.NamedTemporaryFile(suffix=".cubin") as cubin:
        cubin.write(compiled.asm["cubin"])
        cubin.flush()
        tool = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")
        out = subprocess.run([tool, "--dump-resource-usage", cubin.name], capture_output=True, text=True, check=True)
    return next(line.strip() for line in out.stdout.splitlines() if "REG:" in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warps", default="4,8", help="num_warps values to compile, comma-separated")
    parser.add_argument("--stages", type=int, default=3)
    args = parser.parse_args()
    print("| kernel | warps | resources (per thread) |\n|---|---|---|")
    for name, (fn, pointers) in KERNELS.items():
        for warps in (int(w) for w in args.warps.split(",")):
            print(f"| {name} | {warps} | {usage(fn, pointers, warps, args.stages)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
