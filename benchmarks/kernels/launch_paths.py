"""Launched vs CUDA-graph time of the training kernels through each entry path, and the norms' forward warps.

    python benchmarks/kernels/launch_paths.py --csv paths.csv            # H200: about 30 s
    python benchmarks/kernels/launch_paths.py --tiny                     # CPU, Triton interpreter: checks the script

Issue 20's shapes, bf16: ``rms_norm`` / ``layer_norm`` 16384 × 4096, ``glu`` (SwiGLU)
8192 × 11008, ``rope`` q (4, 32, 4096, 128) + k (4, 8, 4096, 128) as the layers' transposed
views. For each op, rows for:

* ``caramba`` — the eager entry (``rms_norm_triton`` …): a plain autograd Function over the launches;
* ``caramba custom op`` — the same launches through the ``torch.library`` custom op and its
  autograd rule (the path ``torch.compile`` graphs hold, and the eager path before this
  script existed); its launched fwd+bwd read 0.87 ms (rms_norm) against 0.21 ms replayed;
* ``liger`` — Liger-Kernel's autograd Function (when installed): the same kind of host path;
* for the norms, ``caramba fwd, W warps`` — the forward kernel at other warp counts (forward only),
  and ``caramba bwd only, P programs/SM`` — the backward kernel and its weight-gradient sum alone
  (its times in the fwd columns, TB/s counting dy, x, dx), at P programs per multiprocessor (4 ships).

Columns: launched forward and fwd+bwd (``runner.ms``: CUDA events around the Python call, so
host overhead the GPU cannot hide shows up) and the same replayed from a CUDA graph (GPU time
alone). A launched time near its graph time means the call is GPU-bound; the difference is
host time the GPU waited for. "rel err" checks caramba's output and every input gradient
against PyTorch in float32 on the same inputs (WRONG past 2e-2; exit status 1). TB/s counts
the bytes each op must move (norms: 2·M·N forward, 5·M·N fwd+bwd, Liger's convention; glu
3·n and 8·n; rope 2 and 4 times q + k).
``--tiny`` runs small shapes on the CPU through the interpreter (times meaningless, no graphs).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("caramba") is None:  # a bare checkout: the repo root IS the package (as __main__.py)
    _shim = Path(tempfile.mkdtemp(prefix="caramba-path-"))
    (_shim / "caramba").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(_shim))

from runner import DT, graph_ms, liger, liger_status, ms  # noqa: E402  (beside this file, on sys.path[0])

Fn = Callable[[], object]


def no_grad(fn: Fn) -> Fn:
    """``fn`` run without autograd (the forward rows)."""
    def go() -> object:
        with torch.no_grad():
            return fn()
    return go


class Timer:
    """Launched and graph-replayed milliseconds on CUDA; one wall-clock call (no graph) on the CPU."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda

    def launched(self, fn: Fn) -> float:
        if self.cuda:
            return ms(fn)
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3

    def graph(self, fn: Fn) -> float:
        """Replayed from a CUDA graph; NaN on the CPU or where capture fails (printed; the launched time stands)."""
        if not self.cuda:
            return float("nan")
        try:
            return graph_ms(fn)
        except Exception as exc:  # e.g. a third-party op that synchronises: keep its launched numbers
            print(f"  graph capture failed: {type(exc).__name__}: {str(exc)[:100]}", file=sys.stderr, flush=True)
            torch.cuda.synchronize()
            return float("nan")


def norm_rows(op: str, timer: Timer, device: str, m: int, n: int, warps: list[int],
              per_sm: list[int]) -> list[dict[str, object]]:
    """rms_norm or layer_norm (with bias): caramba's two paths, Liger, the forward at other warp counts and
    the backward alone at several programs per multiprocessor."""
    x = torch.randn(m, n, device=device, dtype=DT, requires_grad=True)
    w = torch.randn(n, device=device, dtype=DT, requires_grad=True)
    b = torch.randn(n, device=device, dtype=DT, requires_grad=True)
    dy = torch.randn(m, n, device=device, dtype=DT)
    if op == "rms_norm":
        from caramba.kernels.rms_norm.kernel import launch_backward, launch_forward, rms_norm_triton

        inputs = (x, w)
        paths = {"caramba": lambda: rms_norm_triton(x, w, 1e-6)[0],
                 "caramba custom op": lambda: torch.ops.caramba.rms_norm(x, w, None, 1e-6)[0]}
        lg = liger("liger_kernel.ops.rms_norm:LigerRMSNormFunction")
        theirs = (lambda: lg.apply(x, w, 1e-6)) if not isinstance(lg, str) else lg
        at = lambda k: lambda: launch_forward(x, w, None, 1e-6, keep_rstd=False, warps=k)[0]  # noqa: E731
        reference = lambda: F.rms_norm(x.float(), (n,), w.float(), 1e-6).to(DT)  # noqa: E731
        _, _, rstd = launch_forward(x.detach(), w.detach(), None, 1e-6)
        backward = lambda p: lambda: launch_backward(dy, None, x.detach(), w.detach(), rstd, per_sm=p)  # noqa: E731
    else:
        from caramba.kernels.layer_norm.kernel import launch_backward, launch_forward, layer_norm_triton

        inputs = (x, w, b)
        paths = {"caramba": lambda: layer_norm_triton(x, w, b, 1e-5)[0],
                 "caramba custom op": lambda: torch.ops.caramba.layer_norm(x, w, b, None, 1e-5)[0]}
        lg = liger("liger_kernel.ops.layer_norm:LigerLayerNormFunction")
        theirs = (lambda: lg.apply(x, w, b, 1e-5)) if not isinstance(lg, str) else lg
        at = lambda k: lambda: launch_forward(x, w, b, None, 1e-5, keep_stats=False, warps=k)[0]  # noqa: E731
        reference = lambda: F.layer_norm(x.float(), (n,), w.float(), b.float(), 1e-5).to(DT)  # noqa: E731
        _, _, mean, rstd = launch_forward(x.detach(), w.detach(), b.detach(), None, 1e-5)
        backward = lambda p: lambda: launch_backward(dy, None, x.detach(), w.detach(), mean, rstd,  # noqa: E731
                                                     b.dtype, per_sm=p)
    paths["liger"] = theirs
    rows = measure(op, timer, paths, inputs, dy, 2 * m * n * 2, 5 * m * n * 2, reference)
    for k in warps:
        rows.append(measure(op, timer, {f"caramba fwd, {k} warps": at(k)}, (), None, 2 * m * n * 2, 0)[0])
    for p in per_sm:  # the backward alone (dy, x read; dx written), in the fwd columns
        rows.append(measure(op, timer, {f"caramba bwd only, {p} programs/SM": backward(p)}, (), None,
                            3 * m * n * 2, 0)[0])
    return rows


def glu_rows(timer: Timer, device: str, shape: tuple[int, int]) -> list[dict[str, object]]:
    """SwiGLU's silu(gate) ⊙ up: caramba's two paths and Liger."""
    from caramba.kernels.glu.kernel import glu_triton

    gate, up = (torch.randn(*shape, device=device, dtype=DT, requires_grad=True) for _ in range(2))
    dy = torch.randn(*shape, device=device, dtype=DT)
    lg = liger("liger_kernel.ops.swiglu:LigerSiLUMulFunction")
    paths = {"caramba": lambda: glu_triton(gate, up, "silu"),
             "caramba custom op": lambda: torch.ops.caramba.glu(gate, up, "silu"),
             "liger": (lambda: lg.apply(gate, up)) if not isinstance(lg, str) else lg}
    count = gate.numel()
    reference = lambda: (F.silu(gate.float()) * up.float()).to(DT)  # noqa: E731
    return measure("glu", timer, paths, (gate, up), dy, 3 * count * 2, 8 * count * 2, reference)


def rope_rows(timer: Timer, device: str, b: int, h: int, h_kv: int, t: int, d: int) -> list[dict[str, object]]:
    """RoPE of q and k out of place with autograd (the training path): caramba's two paths and Liger."""
    from caramba.engine.model.layers.rope import inverse_frequencies
    from caramba.kernels.rope import rope_torch, tables
    from caramba.kernels.rope.kernel import rope_triton

    q = torch.randn(b, t, h, d, device=device, dtype=DT, requires_grad=True)  # the layers' (B, T, H, D) storage
    k = torch.randn(b, t, h_kv, d, device=device, dtype=DT, requires_grad=True)
    cos, sin = tables(inverse_frequencies(d, 500000.0), 0, t, torch.device(device))
    cos_full, sin_full = torch.cat([cos, cos], -1).to(DT), torch.cat([sin, sin], -1).to(DT)
    dq, dk = torch.randn(b, h, t, d, device=device, dtype=DT), torch.randn(b, h_kv, t, d, device=device, dtype=DT)
    op = lambda x: torch.ops.caramba.rope(x, cos, sin, False)  # noqa: E731
    lg = liger("liger_kernel.ops.rope:LigerRopeFunction")
    paths = {"caramba": lambda: (rope_triton(q.transpose(1, 2), cos, sin), rope_triton(k.transpose(1, 2), cos, sin)),
             "caramba custom op": lambda: (op(q.transpose(1, 2)), op(k.transpose(1, 2))),
             "liger": (lambda: lg.apply(q.transpose(1, 2), k.transpose(1, 2), cos_full, sin_full))
             if not isinstance(lg, str) else lg}
    moved = (q.numel() + k.numel()) * 2
    reference = lambda: (rope_torch(q.transpose(1, 2), cos, sin), rope_torch(k.transpose(1, 2), cos, sin))  # noqa: E731
    return measure("rope", timer, paths, (q, k), (dq, dk), 2 * moved, 4 * moved, reference)


def rel_err(fn: Fn, reference: Fn, inputs: tuple[torch.Tensor, ...],
            grads: torch.Tensor | tuple[torch.Tensor, ...]) -> float:
    """Largest ‖got − ref‖ / ‖ref‖ over the output(s) and every input gradient, against ``reference``."""
    def outputs_and_grads(f: Fn) -> list[torch.Tensor]:
        out = f()
        outs = list(out) if isinstance(out, tuple) else [out]
        return outs + list(torch.autograd.grad(outs, inputs, grads))
    pairs = zip(outputs_and_grads(fn), outputs_and_grads(reference), strict=True)
    return max(((a.float() - b.float()).norm() / b.float().norm()).item() for a, b in pairs)


def measure(op: str, timer: Timer, paths: dict[str, Fn | str], inputs: tuple[torch.Tensor, ...],
            grads: torch.Tensor | tuple[torch.Tensor, ...] | None, fwd_bytes: float,
            both_bytes: float, reference: Fn | None = None) -> list[dict[str, object]]:
    """One row per path: forward (no grad) and, with ``grads``, fwd+bwd, each launched and graph-replayed.

    With a ``reference`` (PyTorch in float32, cast back), caramba's rows also get "rel err" of
    their output and gradients against it (WRONG past ``WRONG``).
    """
    rows: list[dict[str, object]] = []
    for impl, fn in paths.items():
        if isinstance(fn, str):
            rows.append({"op": op, "impl": impl, "error": fn})
            continue
        try:
            row: dict[str, object] = {"op": op, "impl": impl, "fwd ms": timer.launched(no_grad(fn)),
                                      "fwd graph ms": timer.graph(no_grad(fn))}
            if reference is not None and grads is not None and impl.startswith("caramba"):
                row["rel err"] = rel_err(fn, reference, inputs, grads)
            if grads is not None:
                both = (lambda f=fn: torch.autograd.grad(f(), inputs, grads))  # noqa: E731
                row.update({"fwd+bwd ms": timer.launched(both), "fwd+bwd graph ms": timer.graph(both)})
            rows.append(row)
        except Exception as exc:  # one path failing must not hide the others' numbers
            rows.append({"op": op, "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
        for key, nbytes in (("fwd", fwd_bytes), ("fwd+bwd", both_bytes)):
            if f"{key} ms" in rows[-1]:
                rows[-1][f"{key} TB/s"] = nbytes / rows[-1][f"{key} ms"] / 1e9  # type: ignore[operator]
        print(f"  {op} {impl}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


COLUMNS = ("fwd ms", "fwd graph ms", "fwd TB/s", "fwd+bwd ms", "fwd+bwd graph ms", "fwd+bwd TB/s", "rel err")
WRONG = 2e-2  # bf16 output and gradients against PyTorch in float32: ~3e-3 when right


def report(rows: list[dict[str, object]], path: Path | None) -> None:
    """Print one table (launched and graph times side by side) and write the CSV."""
    print("\n| op | impl | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for r in rows:
        if "error" in r:
            print(f"| {r['op']} | {r['impl']} | {r['error']} |")
            continue
        cells = [f"{r[c]:.3f}" if c in r else "" for c in COLUMNS[:-1]]
        cells.append(f"{r['rel err']:.1e}{' WRONG' if r['rel err'] > WRONG else ''}" if "rel err" in r else "")
        print(f"| {r['op']} | {r['impl']} | " + " | ".join(cells) + " |")
    if path:
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["op", "impl", *COLUMNS, "error"])
            writer.writeheader()
            writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", default="rms_norm,layer_norm,glu,rope")
    parser.add_argument("--warps", default="4,16", help="other warp counts for the norms' forward (default: 8)")
    parser.add_argument("--per-sm", default="2,4,8", help="programs per multiprocessor for the norms' backward rows")
    parser.add_argument("--tiny", action="store_true", help="small shapes on the CPU (TRITON_INTERPRET=1)")
    parser.add_argument("--csv", type=Path, default=None, help="also write every row here")
    args = parser.parse_args(argv)
    ops = [op for op in args.ops.split(",") if op]
    unknown = sorted(set(ops) - {"rms_norm", "layer_norm", "glu", "rope"})
    if unknown:
        print(f"unknown op(s) {', '.join(unknown)}; valid: rms_norm, layer_norm, glu, rope", file=sys.stderr)
        return 2
    cuda = torch.cuda.is_available() and not args.tiny
    if not cuda and not args.tiny:
        print("launch_paths needs a CUDA device (or --tiny under TRITON_INTERPRET=1)", file=sys.stderr)
        return 2
    timer, device = Timer(cuda), "cuda" if cuda else "cpu"
    if cuda:
        import triton

        print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}",
              flush=True)
    print(liger_status(), flush=True)
    warps = [int(k) for k in args.warps.split(",") if k]
    per_sm = [int(p) for p in args.per_sm.split(",") if p]
    m, n = (37, 300) if args.tiny else (16384, 4096)
    rows: list[dict[str, object]] = []
    for op in ops:
        if op in ("rms_norm", "layer_norm"):
            rows += norm_rows(op, timer, device, m, n, warps, per_sm)
        elif op == "glu":
            rows += glu_rows(timer, device, (37, 300) if args.tiny else (8192, 11008))
        else:
            rows += rope_rows(timer, device, *((1, 4, 2, 9, 16) if args.tiny else (4, 32, 8, 4096, 128)))
        if cuda:
            torch.cuda.empty_cache()
    report(rows, args.csv)
    failed = any(("error" in r and r["impl"] != "liger") or r.get("rel err", 0.0) > WRONG for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
