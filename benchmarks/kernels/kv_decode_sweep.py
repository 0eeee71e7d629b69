"""Sweep of ``kv_decode`` launch configurations at issue 20's decode shape, against fp16 SDPA.

    python benchmarks/kernels/kv_decode_sweep.py --csv kvdec_sweep.csv            # H200: ≤ 60 s
    TRITON_INTERPRET=1 python benchmarks/kernels/kv_decode_sweep.py --tiny        # CPU: checks the script

One decode step (one query per head) over a T-token cache, B 8, H 32, H_kv 8, D 128,
quantisation block 32: fp16 SDPA over a dense cache (the reference), then caramba's kernel
over the dense fp16, q8 and q4 caches at each configuration ``BLOCK_N:tokens per
program:warps:stages`` (``kernels/kv_decode/kernel.py``'s ``Config``; the first is the
shipped one). Every row is timed as a CUDA-graph replay (the GPU time alone, as the engine's
captured decode step runs) and checked against float32 attention over the dequantised cache:
"rel err" above 1e-2 means that configuration computes something wrong and is marked WRONG.
The last row times the second launch (merging the spans' partial results) alone, at the first
configuration's span count: the part of each caramba row that fusing the merge would save.
TB/s counts the bytes the row must read (codes + scales, or fp16 values); "× SDPA" is SDPA's
time over the row's. ``--tiny`` runs a small shape through the Triton interpreter on the CPU
(times there are meaningless; it proves the command runs).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("caramba") is None:  # a bare checkout: the repo root IS the package (as __main__.py)
    _shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
    (_shim / "caramba").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(_shim))

# First = shipped. Offline sm_90 compiles (registers a thread → programs resident on a multiprocessor by registers):
# q8 64 tokens/4 warps 204 (2), 64/8 128 (2 × 8 warps), 128/8 204 (1), 32/4 148 (3); q4 64/4 158 (3), 64/8 105 (2),
# 128/8 156 (1), 32/4 118 (4). 128 tokens at 4 warps spills for q8, and num_stages 1 and 3 compile to the same
# binary (the loop prefetches its next tile itself), so neither is swept.
CONFIGS = ("64:512:4:3", "64:256:4:3", "64:1024:4:3", "64:256:8:3", "64:512:8:3", "128:512:8:3", "128:1024:8:3",
           "32:256:4:3")
DENSE_CONFIGS = ("64:512:4:3", "64:256:4:3", "64:512:8:3")


def timer(fn, cuda: bool) -> float:
    """Milliseconds of one call: CUDA-graph replay on a GPU (``runner.graph_ms``), one wall-clock call on the CPU."""
    if cuda:
        from runner import graph_ms

        return graph_ms(fn)
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="q8/q4 configs BLOCK_N:tokens:warps:stages,…")
    parser.add_argument("--dense-configs", default=",".join(DENSE_CONFIGS), help="dense fp16 configs, same format")
    parser.add_argument("--tiny", action="store_true", help="B 1, H 4, H_kv 1, T 300, D 32 (CPU interpreter check)")
    parser.add_argument("--csv", type=Path, default=None, help="also write every row here")
    args = parser.parse_args(argv)
    from caramba.engine.infer.cache.quant import dequantize, quantize
    from caramba.kernels.kv_decode import Segment, kv_decode
    from caramba.kernels.kv_decode.kernel import Config

    cuda = torch.cuda.is_available() and not args.tiny
    if not cuda and not args.tiny:
        print("kv_decode_sweep needs a CUDA device (or --tiny under TRITON_INTERPRET=1)", file=sys.stderr)
        return 2
    b, h, h_kv, t, d, block = (1, 4, 1, 300, 32, 16) if args.tiny else (8, 32, 8, 8192, 128, 32)
    device = "cuda" if cuda else "cpu"
    gen = torch.Generator(device=device).manual_seed(0)
    q = torch.randn(b, h, 1, d, device=device, dtype=torch.float16, generator=gen)
    k, v = (torch.randn(b, h_kv, t, d, device=device, dtype=torch.float16, generator=gen) for _ in range(2))
    if cuda:
        import triton

        print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}; "
              f"B {b}, H {h}, H_kv {h_kv}, T {t}, D {d}, block {block}", flush=True)
    dense_bytes = 2 * k.numel() * 2
    sdpa = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)  # noqa: E731
    rows = [{"impl": "eager fp16 SDPA", "kind": "fp16", "config": "", "ms": timer(sdpa, cuda), "bytes": dense_bytes,
             "rel err": 0.0}]
    caches = {"dense": (k, None, v, None, dense_bytes)}
    for kind in ("q8", "q4"):
        (kc, ks), (vc, vs) = quantize(k, kind, block), quantize(v, kind, block)
        caches[kind] = (kc, ks, vc, vs, sum(x.numel() * x.element_size() for x in (kc, ks, vc, vs)))
    for kind, (kk, ks, vv, vs, nbytes) in caches.items():
        k32 = kk.float() if ks is None else dequantize(kk, ks, kind, block, torch.float32)
        v32 = vv.float() if vs is None else dequantize(vv, vs, kind, block, torch.float32)
        ref = F.scaled_dot_product_attention(q.float(), k32, v32, enable_gqa=True)
        segment = [Segment(kk, ks, kind, vv, vs, kind, t)]
        for text in (args.dense_configs if kind == "dense" else args.configs).split(","):
            tuning = Config(*(int(x) for x in text.split(":")))
            step = lambda: kv_decode(q, segment, block if ks is not None else 16, d ** -0.5, tuning=tuning)  # noqa: E731
            try:
                err = ((step().float() - ref).norm() / ref.norm()).item()
                rows.append({"impl": f"caramba {kind}", "kind": kind, "config": text, "ms": timer(step, cuda),
                             "bytes": nbytes, "rel err": err})
            except Exception as exc:  # one configuration failing (e.g. out of resources) must not hide the others
                rows.append({"impl": f"caramba {kind}", "kind": kind, "config": text, "error": f"{type(exc).__name__}: "
                             f"{str(exc)[:100]}"})
            print(f"  {kind} {text}: {rows[-1].get('ms', rows[-1].get('error'))}", file=sys.stderr, flush=True)
    rows.append(merge_row(b, h, h_kv, t, d, device, cuda, args.configs.split(",")[0]))
    report(rows, args.csv)
    return 1 if any("error" in r or r["rel err"] > 1e-2 for r in rows) else 0


def merge_row(b: int, h: int, h_kv: int, t: int, d: int, device: str, cuda: bool, text: str) -> dict[str, object]:
    """The second launch alone (merging the spans' partial results) at the first configuration's span count.

    Its time is part of every caramba row above; "rel err" is 0 (random partials, nothing to check).
    """
    from caramba.kernels.kv_decode.kernel import merge

    slots = -(-t // int(text.split(":")[1]))
    pm, pl = torch.randn(b * h_kv, slots, h // h_kv, device=device), torch.rand(b * h_kv, slots, h // h_kv, device=device)
    pacc = torch.randn(b * h_kv, slots, h // h_kv, d, device=device)
    out = torch.empty(b, h, 1, d, device=device, dtype=torch.float16)
    nbytes = pacc.numel() * 4 + 2 * pm.numel() * 4 + out.numel() * 2
    return {"impl": f"merge kernel alone ({slots} spans)", "kind": "merge", "config": text,
            "ms": timer(lambda: merge(pm, pl, pacc, out), cuda), "bytes": nbytes, "rel err": 0.0}


def report(rows: list[dict[str, object]], path: Path | None) -> None:
    """Print the table (ms, TB/s, × SDPA, error; WRONG past 1e-2) and write the CSV."""
    ref = rows[0]["ms"]
    print("\n| impl | config BLOCK_N:tokens:warps:stages | ms | TB/s | × SDPA | rel err |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['impl']} | {r['config']} | failed: {r['error']} | | | |")
            continue
        r["TB/s"] = r["bytes"] / r["ms"] / 1e9
        r["x SDPA"] = ref / r["ms"]
        flag = " WRONG" if r["rel err"] > 1e-2 else ""
        print(f"| {r['impl']} | {r['config']} | {r['ms']:.4f} | {r['TB/s']:.2f} | {r['x SDPA']:.2f} | "
              f"{r['rel err']:.1e}{flag} |")
    if path:
        keys = ["impl", "kind", "config", "ms", "TB/s", "x SDPA", "rel err", "bytes", "error"]
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    raise SystemExit(main())
