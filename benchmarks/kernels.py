"""Kernel benchmark: caramba's Triton kernels vs PyTorch eager vs torch.compile vs Liger-Kernel.

One table per op (the op names of ``caramba.kernels``), every implementation measured in
this process on the same inputs, bf16, at the shapes of issue 20:

* ``rms_norm`` / ``layer_norm``: 16384 × 4096;  ``glu`` (SwiGLU): 8192 × 11008;
* ``rope``: q (4, 32, 4096, 128), k (4, 8, 4096, 128) (Llama-3-8B heads, 4 × 4096 tokens);
* ``linear_cross_entropy``: 8192 tokens × 2048 → 128,256 vocab;
* ``dba_prefill``: one GQA vs one DBA (null key/value + gate) attention layer at 4k and 16k;
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
Liger-Kernel is optional (installed for the benchmark only): absent, its rows say so.

    python benchmarks/kernels.py [--ops rms_norm,glu,...] [--csv results.csv]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the folder holding the caramba package

Fn = Callable[[], object]
DT = torch.bfloat16


def ms(fn: Fn) -> float:
    """Milliseconds of ``fn``: the lower of two medians (CUDA events, each after its own warm-up).

    Timing twice keeps the first-measured implementation from paying for clocks still ramping.
    """
    import triton.testing

    return min(float(triton.testing.do_bench(fn, warmup=50, rep=150, return_mode="median")) for _ in range(2))


def peak(fn: Fn) -> float:
    """Extra device memory (GiB) one call of ``fn`` allocates at its peak."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**30


def graph_ms(fn: Fn) -> float:
    """Milliseconds of one replay of ``fn`` captured in a CUDA graph: the GPU time without launch overhead."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return ms(graph.replay)


def ceilings() -> tuple[float, float]:
    """(copy TB/s counting read + write, bf16 matmul TFLOP/s) measured on this device."""
    src = torch.randn(2**30 // 2, device="cuda", dtype=DT)  # 1 GiB
    dst = torch.empty_like(src)
    copy = 2 * src.numel() * 2 / ms(lambda: dst.copy_(src)) / 1e9
    a, b = (torch.randn(8192, 8192, device="cuda", dtype=DT) for _ in range(2))
    flops = 2 * 8192**3 / ms(lambda: a @ b) / 1e9
    return copy, flops


def liger(name: str) -> object | str:
    """The Liger-Kernel attribute ``module:attr``, or why it is unavailable."""
    module, attr = name.split(":")
    try:
        return getattr(__import__(module, fromlist=[attr]), attr)
    except Exception as exc:  # an optional comparison: any import failure is reported in its row
        return f"unavailable ({type(exc).__name__}: {str(exc)[:60]})"


def table(title: str, rows: list[dict[str, object]]) -> None:
    """Print one op's table; speed-up is eager's fwd+bwd time over the row's."""
    eager = next((r["fwd+bwd ms"] for r in rows if r["impl"] in ("eager", "GQA") and "error" not in r), None)
    print(f"\n## {title}")
    head = ["impl", "fwd ms", "fwd TB/s", "fwd+bwd ms", "fwd+bwd TB/s", "fwd+bwd graph ms", "peak GiB", "× eager"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        if "error" in r:
            print(f"| {r['impl']} | {r['error']} |")
            continue
        speed = f"{eager / r['fwd+bwd ms']:.2f}" if isinstance(eager, float) else "—"
        graph = r.get("graph ms", float("nan"))
        print(f"| {r['impl']} | {r['fwd ms']:.3f} | {r['fwd TB/s']:.2f} | {r['fwd+bwd ms']:.3f} | "
              f"{r['fwd+bwd TB/s']:.2f} | {graph:.3f} | {r['peak GiB']:.3f} | {speed} |")


def run_impls(op: str, impls: dict[str, object], forward: Callable[[object], Fn], both: Callable[[object], Fn],
              fwd_bytes: float, both_bytes: float) -> list[dict[str, object]]:
    """Time every implementation's forward and fwd+bwd; a failing implementation gets an error row."""
    rows: list[dict[str, object]] = []
    for impl, fn in impls.items():
        if isinstance(fn, str):
            rows.append({"op": op, "impl": impl, "error": fn})
            continue
        try:
            f, fb = ms(forward(fn)), ms(both(fn))
            rows.append({"op": op, "impl": impl, "fwd ms": f, "fwd TB/s": fwd_bytes / f / 1e9, "fwd+bwd ms": fb,
                         "fwd+bwd TB/s": both_bytes / fb / 1e9, "peak GiB": peak(both(fn))})
            if impl != "liger":  # Liger is timed as launched only (its ops are not checked for graph capture)
                rows[-1]["graph ms"] = graph_ms(both(fn))
        except Exception as exc:  # one implementation failing must not hide the others' numbers
            rows.append({"op": op, "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return rows


def norm_op(op: str) -> list[dict[str, object]]:
    """rms_norm or layer_norm at 16384 × 4096."""
    from caramba.kernels.layer_norm.kernel import LayerNormFunction
    from caramba.kernels.rms_norm.kernel import RMSNormFunction

    m, n = 16384, 4096
    x = torch.randn(m, n, device="cuda", dtype=DT, requires_grad=True)
    w = torch.randn(n, device="cuda", dtype=DT).requires_grad_()
    b = torch.randn(n, device="cuda", dtype=DT).requires_grad_()
    dy = torch.randn(m, n, device="cuda", dtype=DT)
    if op == "rms_norm":
        eager = lambda x, w: F.rms_norm(x.float(), (n,), w.float(), 1e-6).to(x.dtype)  # noqa: E731  the layer's path
        ours = lambda x, w: RMSNormFunction.apply(x, w, 1e-6, None)[0]  # noqa: E731
        lg = liger("liger_kernel.ops.rms_norm:LigerRMSNormFunction")
        theirs = (lambda x, w: lg.apply(x, w, 1e-6)) if not isinstance(lg, str) else lg  # noqa: E731
        inputs = (x, w)
    else:
        eager = lambda x, w, b: F.layer_norm(x, (n,), w, b, 1e-5)  # noqa: E731
        ours = lambda x, w, b: LayerNormFunction.apply(x, w, b, 1e-5, None)[0]  # noqa: E731
        lg = liger("liger_kernel.ops.layer_norm:LigerLayerNormFunction")
        theirs = (lambda x, w, b: lg.apply(x, w, b, 1e-5)) if not isinstance(lg, str) else lg  # noqa: E731
        inputs = (x, w, b)
    impls = {"caramba": ours, "eager": eager, "torch.compile": torch.compile(eager), "liger": theirs}

    def forward(fn):
        def go():
            with torch.no_grad():
                return fn(*inputs)
        return go

    def both(fn):
        return lambda: torch.autograd.grad(fn(*inputs), inputs, dy)

    return run_impls(op, impls, forward, both, 2 * m * n * 2, 5 * m * n * 2)


def glu_op() -> list[dict[str, object]]:
    """SwiGLU's gated activation silu(gate) ⊙ up at 8192 × 11008."""
    from caramba.kernels.glu.kernel import GLUFunction

    shape = (8192, 11008)
    gate, up = (torch.randn(*shape, device="cuda", dtype=DT, requires_grad=True) for _ in range(2))
    dy = torch.randn(*shape, device="cuda", dtype=DT)
    eager = lambda g, u: F.silu(g) * u  # noqa: E731
    lg = liger("liger_kernel.ops.swiglu:LigerSiLUMulFunction")
    impls = {"caramba": lambda g, u: GLUFunction.apply(g, u, "silu"), "eager": eager,
             "torch.compile": torch.compile(eager), "liger": (lambda g, u: lg.apply(g, u)) if not isinstance(lg, str) else lg}
    n = gate.numel()

    def forward(fn):
        def go():
            with torch.no_grad():
                return fn(gate, up)
        return go

    return run_impls("glu", impls, forward, lambda fn: lambda: torch.autograd.grad(fn(gate, up), (gate, up), dy),
                     3 * n * 2, 8 * n * 2)


def rope_op() -> list[dict[str, object]]:
    """RoPE of q (4, 32, 4096, 128) and k (4, 8, 4096, 128); in-place forward timed apart from the backward."""
    from caramba.engine.model.layers.rope import apply_rope, inverse_frequencies
    from caramba.kernels.rope import tables
    from caramba.kernels.rope.kernel import RopeFunction, rotate

    b, h, h_kv, t, d = 4, 32, 8, 4096, 128
    q = torch.randn(b, t, h, d, device="cuda", dtype=DT).transpose(1, 2)  # the layers' transposed views
    k = torch.randn(b, t, h_kv, d, device="cuda", dtype=DT).transpose(1, 2)
    cos, sin = tables(inverse_frequencies(d, 500000.0), 0, t, torch.device("cuda"))
    cos_full, sin_full = torch.cat([cos, cos], -1).to(DT), torch.cat([sin, sin], -1).to(DT)
    dq, dk = torch.randn_like(q), torch.randn_like(k)

    def eager(q, k):
        return apply_rope(q, cos_full, sin_full), apply_rope(k, cos_full, sin_full)

    def ours(q, k):
        if not torch.is_grad_enabled():
            return rotate(q, q, cos, sin), rotate(k, k, cos, sin)
        return RopeFunction.apply(q, cos, sin), RopeFunction.apply(k, cos, sin)

    lg = liger("liger_kernel.ops.rope:LigerRopeFunction")
    impls = {"caramba": ours, "eager": eager, "torch.compile": torch.compile(eager),
             "liger": (lambda q, k: lg.apply(q, k, cos_full, sin_full)) if not isinstance(lg, str) else lg}
    rows: list[dict[str, object]] = []
    moved = (q.numel() + k.numel()) * 2
    for impl, fn in impls.items():
        if isinstance(fn, str):
            rows.append({"op": "rope", "impl": impl, "error": fn})
            continue
        try:
            def forward() -> object:
                with torch.no_grad():
                    return fn(q, k)
            f = ms(forward)
            q2, k2 = q.detach().clone().requires_grad_(), k.detach().clone().requires_grad_()
            outs = fn(q2 * 1, k2 * 1)
            backward = lambda: torch.autograd.grad(outs, (q2, k2), (dq, dk), retain_graph=True)  # noqa: E731
            bwd = ms(backward)
            rows.append({"op": "rope", "impl": impl, "fwd ms": f, "fwd TB/s": 2 * moved / f / 1e9, "fwd+bwd ms": f + bwd,
                         "fwd+bwd TB/s": 4 * moved / (f + bwd) / 1e9, "peak GiB": peak(backward)})
        except Exception as exc:  # one implementation failing must not hide the others' numbers
            rows.append({"op": "rope", "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return rows


def linear_cross_entropy_op(chunks: list[int]) -> list[dict[str, object]]:
    """8192 tokens × 2048 → 128,256 vocab, forward+backward; TFLOP/s at 6·N·D·V."""
    from caramba.kernels.linear_cross_entropy import linear_cross_entropy_torch
    from caramba.kernels.linear_cross_entropy.kernel import LinearCrossEntropyFunction

    n, d, v = 8192, 2048, 128256
    h = torch.randn(n, d, device="cuda", dtype=DT, requires_grad=True)
    w = (torch.randn(v, d, device="cuda", dtype=DT) * 0.02).requires_grad_()
    targets = torch.randint(0, v, (n,), device="cuda")
    impls: dict[str, object] = {f"caramba chunk={c or 'auto'}": (lambda c: lambda h, w: LinearCrossEntropyFunction.apply(
        h, w, targets, -100, 0.0, 0.0, c or None))(c) for c in chunks}
    eager = lambda h, w: linear_cross_entropy_torch(h, w, targets)  # noqa: E731
    impls["eager"] = eager
    impls["torch.compile"] = torch.compile(eager)
    lg = liger("liger_kernel.ops.fused_linear_cross_entropy:LigerFusedLinearCrossEntropyFunction")
    impls["liger"] = (lambda h, w: _first(lg.apply(h, w, targets))) if not isinstance(lg, str) else lg
    flops = 6 * n * d * v
    rows: list[dict[str, object]] = []
    ref = None
    for impl, fn in impls.items():
        if isinstance(fn, str):
            rows.append({"op": "linear_cross_entropy", "impl": impl, "error": fn})
            continue
        try:
            both = lambda: torch.autograd.grad(fn(h, w), (h, w))  # noqa: E731
            loss = float(fn(h, w))
            ref = loss if ref is None else ref
            t = ms(both)
            rows.append({"op": "linear_cross_entropy", "impl": impl, "fwd ms": float("nan"), "fwd TB/s": float("nan"),
                         "fwd+bwd ms": t, "fwd+bwd TB/s": flops / t / 1e9, "peak GiB": peak(both), "loss": loss})
        except Exception as exc:  # one implementation failing must not hide the others' numbers
            rows.append({"op": "linear_cross_entropy", "impl": impl,
                         "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return rows


def dba_prefill_op(contexts: list[int]) -> list[dict[str, object]]:
    """Prefill (forward) and fwd+bwd of one attention layer: GQA vs DBA (null key/value + gate) at batch 1.

    The dba_vs_gqa benchmark's GPU shapes: d_model 1024, 16 heads, 4 KV heads; DBA sem_dim =
    geo_dim = 256, v_dim = d_model. "DBA explicit mask" is the previous null-key path (a
    (T, T+1) boolean mask), kept here as the before-number; "DBA" is the current layer.
    """
    import types

    from caramba.engine.model.layers.attention import AttentionLayer
    from caramba.engine.model.layers.attention_decoupled import DecoupledAttention

    def explicit_mask(self, q, k, v, dropout):  # the previous _with_null, verbatim in effect
        b, t_q, t_k = q.shape[0], q.shape[-2], k.shape[-2]
        k = torch.cat([self.null_k.to(k.dtype).expand(b, -1, -1, -1), k], dim=-2)
        v = torch.cat([self.null_v.to(v.dtype).expand(b, -1, -1, -1), v], dim=-2)
        mask = torch.ones(t_q, t_k + 1, dtype=torch.bool, device=q.device)
        mask[:, 1:] = torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).tril(diagonal=t_k - t_q)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0, enable_gqa=q.shape[1] != k.shape[1])

    rows: list[dict[str, object]] = []
    for t in contexts:
        gqa = AttentionLayer(1024, 16, 4).cuda().to(DT)
        dba = DecoupledAttention(1024, 16, sem_dim=256, geo_dim=256, n_kv_heads=4, null_attn=True, gate=True).cuda().to(DT)
        old = DecoupledAttention(1024, 16, sem_dim=256, geo_dim=256, n_kv_heads=4, null_attn=True, gate=True).cuda().to(DT)
        old._with_null = types.MethodType(explicit_mask, old)
        x = torch.randn(1, t, 1024, device="cuda", dtype=DT, requires_grad=True)
        dy = torch.randn_like(x)
        for impl, layer in (("GQA", gqa), ("DBA", dba), ("DBA explicit mask", old)):
            def forward(layer=layer):
                with torch.no_grad():
                    return layer(x)
            both = (lambda layer=layer: torch.autograd.grad(layer(x), [x, *layer.parameters()], dy))
            try:
                f, fb = ms(forward), ms(both)
                rows.append({"op": f"dba_prefill T={t}", "impl": impl, "fwd ms": f, "fwd TB/s": float("nan"),
                             "fwd+bwd ms": fb, "fwd+bwd TB/s": float("nan"), "peak GiB": peak(both)})
            except Exception as exc:  # one implementation failing must not hide the others' numbers
                rows.append({"op": f"dba_prefill T={t}", "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return rows


def kv_decode_op(t: int = 8192) -> list[dict[str, object]]:
    """One decode step over a T-token cache: B 8, H 32, H_kv 8, D 128 (block 32, no window).

    Rows: fp16 SDPA over a dense cache (the reference), the engine's PyTorch path for a
    quantised cache (dequantise the history, then SDPA), and the fused kernel. "fwd TB/s"
    counts the cache bytes the row must read (codes + scales, or fp16 values).
    """
    from caramba.engine.infer.cache.quant import dequantize, quantize
    from caramba.kernels.kv_decode import Segment, kv_decode

    b, h, h_kv, d, block = 8, 32, 8, 128, 32
    q = torch.randn(b, h, 1, d, device="cuda", dtype=torch.float16)
    k, v = (torch.randn(b, h_kv, t, d, device="cuda", dtype=torch.float16) for _ in range(2))
    dense_bytes = 2 * k.numel() * 2
    rows: list[dict[str, object]] = []

    def add(impl: str, fn: Fn, nbytes: float) -> None:
        f = ms(fn)
        rows.append({"op": f"kv_decode T={t}", "impl": impl, "fwd ms": f, "fwd TB/s": nbytes / f / 1e9,
                     "fwd+bwd ms": f, "fwd+bwd TB/s": nbytes / f / 1e9, "peak GiB": peak(fn)})

    add("eager", lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), dense_bytes)
    ref = F.scaled_dot_product_attention(q, k, v, enable_gqa=True).float()
    for kind in ("q8", "q4"):
        kc, ks = quantize(k, kind, block)
        vc, vs = quantize(v, kind, block)
        nbytes = sum(x.numel() * x.element_size() for x in (kc, ks, vc, vs))
        add(f"{kind} PyTorch (dequantise + SDPA)", lambda: F.scaled_dot_product_attention(
            q, dequantize(kc, ks, kind, block, q.dtype), dequantize(vc, vs, kind, block, q.dtype), enable_gqa=True),
            nbytes)
        segment = [Segment(kc, ks, kind, vc, vs, kind, t)]
        out = kv_decode(q, segment, block, d ** -0.5).float()
        error = ((out - ref).norm() / ref.norm()).item()
        add(f"{kind} caramba (rel. error vs fp16 {error:.1e})", lambda: kv_decode(q, segment, block, d ** -0.5), nbytes)
    return rows


def _first(out: object) -> torch.Tensor:
    """Liger's fused linear CE returns the loss alone or a tuple starting with it, by version."""
    return out[0] if isinstance(out, tuple) else out  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", default="rms_norm,layer_norm,glu,rope,linear_cross_entropy,dba_prefill,kv_decode")
    parser.add_argument("--contexts", default="4096,16384", help="dba_prefill context lengths")
    parser.add_argument("--chunks", default="0,512", help="linear_cross_entropy rows per chunk (0: default)")
    parser.add_argument("--csv", type=Path, default=None, help="also write every row here")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("benchmarks/kernels.py needs a CUDA device (the kernels are checked on the CPU by tests/kernels)")
        return 2
    import triton

    copy, flops = ceilings()
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}; "
          f"measured ceilings: copy {copy:.2f} TB/s (read + write), bf16 matmul {flops:.0f} TFLOP/s")
    rows: list[dict[str, object]] = []
    for op in args.ops.split(","):
        if op in ("rms_norm", "layer_norm"):
            result = norm_op(op)
        elif op == "glu":
            result = glu_op()
        elif op == "rope":
            result = rope_op()
        elif op == "linear_cross_entropy":
            result = linear_cross_entropy_op([int(c) for c in args.chunks.split(",")])
        elif op == "dba_prefill":
            result = dba_prefill_op([int(c) for c in args.contexts.split(",")])
        elif op == "kv_decode":
            result = kv_decode_op()
        else:
            raise SystemExit(f"unknown op {op!r}; valid: rms_norm, layer_norm, glu, rope, linear_cross_entropy, "
                             "dba_prefill")
        title = op + {"linear_cross_entropy": " (TB/s columns are TFLOP/s; fwd is part of fwd+bwd)",
                      "dba_prefill": " (one layer, batch 1; × eager column: GQA time over the row's)",
                      "kv_decode": " (decode only: fwd+bwd columns repeat fwd; eager = fp16 SDPA over a dense cache)",
                      }.get(op, "")
        for name in dict.fromkeys(r["op"] for r in result):  # one table per op (per context for dba_prefill)
            table(title.replace(op, str(name), 1), [r for r in result if r["op"] == name])
        rows += result
        torch.cuda.empty_cache()
    if args.csv:
        keys = sorted({k for r in rows for k in r})
        with args.csv.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
