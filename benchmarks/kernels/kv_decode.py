"""``kv_decode`` table: one decode step over a T-token q8/q4 cache vs fp16 SDPA over a dense one.

B 8, H 32, H_kv 8, D 128, quantisation block 32, no exact window. Rows: fp16 SDPA over a
dense cache (the reference), the engine's PyTorch path for a quantised cache (dequantise the
history, then SDPA), and the fused kernel at its shipped configuration, plus, with
``configs``, the kernel at other fixed configurations (BLOCK_N:tokens per
program:warps:stages) so the shipped one is chosen from measurements. "fwd ms" is the step as
launched from Python; "fwd+bwd ms" (no backward here) is the same step replayed from a CUDA
graph, the GPU time alone, as a captured decode step runs; "× ref" compares those.
Bandwidth counts the cache bytes the row must read (codes + scales, or fp16 values).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from runner import Fn, graph_ms, ms, peak

B, H, H_KV, D, QBLOCK = 8, 32, 8, 128, 32


def rows(t: int = 8192, configs: list[str] | None = None) -> list[dict[str, object]]:
    """The table's rows (module docstring)."""
    from caramba.engine.infer.cache.quant import dequantize, quantize
    from caramba.kernels.kv_decode import Segment, kv_decode
    from caramba.kernels.kv_decode import kernel as decode_kernel

    q = torch.randn(B, H, 1, D, device="cuda", dtype=torch.float16)
    k, v = (torch.randn(B, H_KV, t, D, device="cuda", dtype=torch.float16) for _ in range(2))
    out: list[dict[str, object]] = []

    def add(impl: str, fn: Fn, nbytes: float) -> None:
        try:
            launched, replayed = ms(fn), graph_ms(fn)
        except Exception as exc:  # one configuration failing must not hide the others' numbers
            out.append({"op": f"kv_decode T={t}", "impl": impl, "error": f"failed: {type(exc).__name__}: {exc}"[:160]})
            return
        out.append({"op": f"kv_decode T={t}", "impl": impl, "fwd ms": launched, "fwd TB/s": nbytes / launched / 1e9,
                    "fwd+bwd ms": replayed, "fwd+bwd TB/s": nbytes / replayed / 1e9, "peak GiB": peak(fn)})

    add("eager fp16 SDPA", lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), 2 * k.numel() * 2)
    ref = F.scaled_dot_product_attention(q, k, v, enable_gqa=True).float()
    shipped = decode_kernel.config
    dense = [Segment(k, None, "dense", v, None, "dense", t)]
    add("dense fp16 caramba kv_decode (same skeleton, no dequantisation)", lambda: kv_decode(q, dense, 16, D ** -0.5),
        2 * k.numel() * 2)
    for kind in ("q8", "q4"):
        kc, ks = quantize(k, kind, QBLOCK)
        vc, vs = quantize(v, kind, QBLOCK)
        nbytes = sum(x.numel() * x.element_size() for x in (kc, ks, vc, vs))
        add(f"{kind} PyTorch (dequantise + SDPA)", lambda: F.scaled_dot_product_attention(
            q, dequantize(kc, ks, kind, QBLOCK, q.dtype), dequantize(vc, vs, kind, QBLOCK, q.dtype),
            enable_gqa=True), nbytes)
        segment = [Segment(kc, ks, kind, vc, vs, kind, t)]
        step = lambda: kv_decode(q, segment, QBLOCK, D ** -0.5)  # noqa: E731
        error = ((step().float() - ref).norm() / ref.norm()).item()
        add(f"{kind} caramba (rel. error vs fp16 {error:.1e})", step, nbytes)
        decode_kernel.BITS = False
        try:  # the same kernel converting codes with int → float instructions instead of bit assembly
            error = ((step().float() - ref).norm() / ref.norm()).item()
            add(f"{kind} caramba, int → float conversions (rel. error {error:.1e})", step, nbytes)
        finally:
            decode_kernel.BITS = True
        filled = torch.tensor([t], device="cuda")  # a static cache's device-side length (capacity t + 64)
        kc2, ks2, vc2, vs2 = (torch.cat([x, x[:, :, :64]], 2) for x in (kc, ks, vc, vs))
        static = [Segment(kc2, ks2, kind, vc2, vs2, kind, filled)]
        add(f"{kind} caramba, length read from the device", lambda: kv_decode(q, static, QBLOCK, D ** -0.5), nbytes)
        for variant in configs or []:
            block_n, tokens, warps, stages = (int(x) for x in variant.split(":"))
            decode_kernel.config = lambda *_, c=(block_n, tokens, warps, stages): c
            try:
                error = ((step().float() - ref).norm() / ref.norm()).item()
                add(f"{kind} caramba BLOCK_N {block_n}, {tokens} tok/program, {warps} warps, {stages} stages "
                    f"(rel. error {error:.1e})", step, nbytes)
            finally:
                decode_kernel.config = shipped
    return out


def dba_rows(t: int = 16384) -> list[dict[str, object]]:
    """One DBA decode step at the dba_vs_gqa GPU shape: batch 1, 16 heads over 4 KV heads, 16 + 16 q/k, 64 v.

    Rows: fp16 SDPA over the dense concatenated cache (DBA's PyTorch decode path on a bf16/fp16
    cache), the q8/q4 PyTorch path (dequantise the three tensors, concatenate, SDPA) and the
    fused kernel with both key parts; as in ``rows``, "fwd" launched and "fwd+bwd" graph-replayed.
    """
    from caramba.engine.infer.cache.quant import dequantize, quantize
    from caramba.kernels.kv_decode import Segment, kv_decode

    h, h_kv, ds, dg, dv, block = 16, 4, 16, 16, 64, 16
    q_sem, q_geo = (torch.randn(1, h, 1, d, device="cuda", dtype=torch.float16) for d in (ds, dg))
    k_sem, k_geo, v = (torch.randn(1, h_kv, t, d, device="cuda", dtype=torch.float16) for d in (ds, dg, dv))
    a, b = ds ** -0.5, dg ** -0.5
    q = torch.cat([q_sem * a, q_geo * b], -1)
    out: list[dict[str, object]] = []

    def add(impl: str, fn: Fn, nbytes: float) -> None:
        try:
            launched, replayed = ms(fn), graph_ms(fn)
        except ValueError as exc:  # a shape the kernel refuses
            out.append({"op": f"kv_decode_dba T={t}", "impl": impl, "error": f"refused: {exc}"[:160]})
            return
        out.append({"op": f"kv_decode_dba T={t}", "impl": impl, "fwd ms": launched, "fwd TB/s": nbytes / launched / 1e9,
                    "fwd+bwd ms": replayed, "fwd+bwd TB/s": nbytes / replayed / 1e9, "peak GiB": peak(fn)})

    dense = sum(x.numel() * 2 for x in (k_sem, k_geo, v))
    add("eager fp16 SDPA (concat q/k)", lambda: F.scaled_dot_product_attention(
        q, torch.cat([k_sem, k_geo], -1), v, scale=1.0, enable_gqa=True), dense)
    ref = F.scaled_dot_product_attention(q, torch.cat([k_sem, k_geo], -1), v, scale=1.0, enable_gqa=True).float()
    for kind in ("q8", "q4"):
        codes = [quantize(x, kind, block) for x in (k_sem, k_geo, v)]
        nbytes = sum(c.numel() * c.element_size() + s.numel() * s.element_size() for c, s in codes)
        (sc, ss), (gc, gs), (vc, vs) = codes
        add(f"{kind} PyTorch (dequantise + concat + SDPA)", lambda: F.scaled_dot_product_attention(
            q, torch.cat([dequantize(sc, ss, kind, block, q.dtype), dequantize(gc, gs, kind, block, q.dtype)], -1),
            dequantize(vc, vs, kind, block, q.dtype), scale=1.0, enable_gqa=True), nbytes)
        segment = [Segment(sc, ss, kind, vc, vs, kind, t, gc, gs, kind)]
        step = lambda: kv_decode(q_sem, segment, block, a, q_geo, b)  # noqa: E731
        try:
            label = f"{kind} caramba (rel. error vs fp16 {((step().float() - ref).norm() / ref.norm()).item():.1e})"
        except ValueError:
            label = f"{kind} caramba"
        add(label, step, nbytes)
    return out
