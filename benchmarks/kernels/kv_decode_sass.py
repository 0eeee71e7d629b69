"""``kv_decode``'s compiled code for an H100/H200 (sm_90), inspected on a machine without a GPU.

    python benchmarks/kernels/kv_decode_sass.py [--configs 64:4,64:8] [--kinds dense,q8,q4]

Triton compiles the kernel for sm_90 offline (its bundled ptxas, nvdisasm and cuobjdump);
for each cache kind and ``BLOCK_N:warps`` this prints the registers a thread (programs that
fit a multiprocessor's 65,536 registers), spills, and the instructions of the main loop
(one tile of BLOCK_N tokens) per warp, with the commonest opcodes. Loop instructions × warps
per 64 tokens is the issue work per tile: × 8,192 tiles (B 8, H_kv 8, T 8192) over 132 SMs ×
4 schedulers × ~1.98 GHz gives the time if every cycle issued an instruction — the floor that
no launch configuration can beat. Shape as ``kv_decode_sweep.py``: D 128, block 32, G 4.
Takes ~15 s on a CPU; not under ``TRITON_INTERPRET=1``, which replaces the compiler.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

TILES, ISSUE_PER_S = 8 * 8 * 8192 // 64, 132 * 4 * 1.98e9


def compile_sm90(kind: str, block_n: int, warps: int):  # -> triton CompiledKernel
    """The decode kernel compiled for sm_90 with the arguments' specialisations a real launch gets."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from caramba.kernels.kv_decode.kernel import BITS, KINDS, _kv_decode_kernel

    fn = _kv_decode_kernel
    code = {"dense": "*fp16", "q8": "*i8", "q4": "*u8"}[kind]
    pointers = {"Q": "*fp16", "K": code, "KS": "*fp16", "Q2": "*fp16", "K2": code, "KS2": "*fp16", "V": code,
                "VS": "*fp16", "LP": "*i64", "PM": "*fp32", "PL": "*fp32", "PACC": "*fp32"}
    constants = dict(K_KIND=KINDS[kind], K2_KIND=0, V_KIND=KINDS[kind], HAS_K2=False, L_ON_DEVICE=False, QBLOCK=32,
                     BLOCK_G=16, BLOCK_N=block_n, BLOCK_DK=128, BLOCK_DK2=16, BLOCK_DV=128, BITS=BITS,
                     skd=1, sk2d=1, svd=1)  # unit strides are specialised to constants by Triton's launcher
    signature, attrs = {}, {}
    for i, name in enumerate(fn.arg_names):
        if name in constants:
            signature[name] = "constexpr"
        elif name in pointers:
            signature[name], attrs[(i,)] = pointers[name], [["tt.divisibility", 16]]
        elif name in ("scale", "scale2"):
            signature[name] = "fp32"
        else:  # strides, lengths and widths at this shape are multiples of 16 but for H_KV, G and slot counts
            signature[name] = "i32"
            if name not in ("H_KV", "G", "DK2", "slot0"):
                attrs[(i,)] = [["tt.divisibility", 16]]
    source = ASTSource(fn, signature, constants, attrs)
    return triton.compile(source, target=GPUTarget("cuda", 90, 32), options={"num_warps": warps, "num_stages": 3})


def tool(name: str, cubin: bytes, *flags: str) -> str:
    """Run one of Triton's bundled CUDA tools on a cubin."""
    import triton

    with tempfile.NamedTemporaryFile(suffix=".cubin") as fh:
        fh.write(cubin)
        fh.flush()
        path = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", name)
        return subprocess.run([path, *flags, fh.name], capture_output=True, text=True, check=True).stdout


def main_loop(sass: str) -> collections.Counter[str]:
    """Opcode counts between the target and the source of the backward branch (the token loop)."""
    labels, pending, code = {}, [], []
    for line in sass.splitlines():
        if m := re.match(r"^\s*\.L_x_(\d+):", line):
            pending.append(m.group(1))
        elif m := re.match(r"\s+/\*([0-9a-f]+)\*/\s+(.*)", line):
            address = int(m.group(1), 16)
            labels.update({p: address for p in pending})
            pending = []
            code.append((address, m.group(2)))
    for address, text in code:
        m = re.search(r"BRA\s+`\(\.L_x_(\d+)\)", text)
        if m and labels.get(m.group(1), address) < address:
            body = [t for a, t in code if labels[m.group(1)] <= a <= address]
            return collections.Counter(t.split()[1 if t.startswith("@") else 0].split(".")[0] for t in body)
    return collections.Counter()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="64:4,64:8,128:8,32:4", help="BLOCK_N:warps,…")
    parser.add_argument("--kinds", default="dense,q8,q4")
    args = parser.parse_args(argv)
    if os.environ.get("TRITON_INTERPRET") == "1":
        print("kv_decode_sass compiles for sm_90: run it without TRITON_INTERPRET=1 (the interpreter has no binary)",
              file=sys.stderr)
        return 2
    print("| kind | BLOCK_N:warps | registers | programs/SM | spill bytes | loop instr/warp | warp-instr / 64 tokens "
          "| issue floor µs | top opcodes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in args.kinds.split(","):
        for text in args.configs.split(","):
            block_n, warps = (int(x) for x in text.split(":"))
            kernel = compile_sm90(kind, block_n, warps)
            usage = tool("cuobjdump", kernel.asm["cubin"], "-res-usage")
            regs = int(re.search(r"REG:(\d+)", usage).group(1))
            stack = int(re.search(r"STACK:(\d+)", usage).group(1))
            loop = main_loop(tool("nvdisasm", kernel.asm["cubin"], "-c"))
            per_tile = sum(loop.values()) * warps * 64 // block_n
            top = ", ".join(f"{op} {n}" for op, n in loop.most_common(6))
            print(f"| {kind} | {text} | {regs} | {65536 // (regs * 32 * warps)} | {stack} | {sum(loop.values())} | "
                  f"{per_tile} | {per_tile * TILES / ISSUE_PER_S * 1e6:.1f} | {top} |", flush=True)
    return 0


if __name__ == "__main__":
    import importlib.util
    from pathlib import Path

    if importlib.util.find_spec("caramba") is None:  # a bare checkout: the repo root IS the package (as __main__.py)
        shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
        (shim / "caramba").symlink_to(Path(__file__).resolve().parents[2], target_is_directory=True)
        sys.path.insert(0, str(shim))
    raise SystemExit(main())
