"""``dba_attention`` tables: DBA's attention op and one DBA layer, Triton kernel vs SDPA, against GQA.

The dba_vs_gqa benchmark's GPU shapes at batch 1: d_model 1024, 16 heads, 4 KV heads; DBA
sem_dim = geo_dim = 256 (16 + 16 per head), v_dim = d_model (64 per head).

* op level (``dba_attention T=…``): the caramba kernel on (q_sem, q_geo, k_sem, k_geo, v);
  DBA's SDPA path as the layer runs it (q = [sem | geo], k, v: views of the one stacked
  projection's output, SDPA causal with GQA, gradients into that output); the previous SDPA
  path (concatenate [q_sem·a, q_geo·b] and [k_sem, k_geo] by copying) as the before-number;
  SDPA of a standard attention with the same heads and total q/k width (16 heads, d 32,
  cuDNN and flash back ends forced: the issue's reference); and the GQA baseline's attention
  (16 heads over 4 KV heads, d 64);
* layer level (``dba_layer T=…``): the whole attention layer (projections, RoPE, null
  key/value + gate for DBA): GQA, DBA on its SDPA path (what ships), DBA with the dispatch
  sending ``dba_attention`` to the kernel, and GQA again (the run's spread); forward (no
  grad) is the prefill;
* ``profile``: torch.profiler tables (GPU kernels by total time) of both layers' prefill and
  of the op's fwd+bwd, which name the SDPA back end each path ran.

``configs`` re-times the kernel's fwd+bwd at other fixed launch configurations
(BLOCK:warps:stages, ``:per-head`` to force the dk/dv kernel's per-query-head mode) so the
shipped one can be chosen from measurements.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from runner import DT, ms, peak

H, H_KV, DS, DG, DV = 16, 4, 16, 16, 64


def _row(op: str, impl: str, forward, both) -> dict[str, object]:
    try:
        f, fb = ms(forward), ms(both)
        return {"op": op, "impl": impl, "fwd ms": f, "fwd TB/s": float("nan"), "fwd+bwd ms": fb,
                "fwd+bwd TB/s": float("nan"), "peak GiB": peak(both)}
    except Exception as exc:  # one implementation failing must not hide the others' numbers
        return {"op": op, "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:120]}"}


def _timed(op: str, impl: str, fn, inputs: list[torch.Tensor], backend=None) -> dict[str, object]:
    """Forward (no grad) and fwd+bwd (every input gradient) of ``fn(*inputs)``, optionally under one SDPA back end."""
    from contextlib import nullcontext

    from torch.nn.attention import sdpa_kernel

    def scope():
        return sdpa_kernel([backend]) if backend is not None else nullcontext()

    def forward():
        with torch.no_grad(), scope():
            return fn(*inputs)

    def both():
        with scope():
            out = fn(*inputs)
            return torch.autograd.grad(out, inputs, torch.ones_like(out))

    return _row(op, impl, forward, both)


def shipped_sdpa(y: torch.Tensor) -> torch.Tensor:
    """DBA's attention as ``DecoupledAttention`` runs it: q, k, v are views of the stacked projection ``y``."""
    from caramba.engine.model.layers.attention import causal_sdpa

    return causal_sdpa(*_views(y), True, scale=DG ** -0.5)


def _views(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    q, k, v = y.split([H * (DS + DG), H_KV * (DS + DG), H_KV * DV], -1)
    return tuple(part.unflatten(-1, (n, -1)).transpose(1, 2) for part, n in ((q, H), (k, H_KV), (v, H_KV)))


_NULL: list[torch.nn.Module] = []


def null_zero_row(y: torch.Tensor) -> torch.Tensor:
    """The layer's null-key attention after a cache (``DecoupledAttention._with_null``: rows prepended by concatenation)."""
    if not _NULL:
        _NULL.append(layers()[1])
    return _NULL[0]._with_null(*_views(y), 0.0)


def null_row(y: torch.Tensor) -> torch.Tensor:
    """The layer's uncached null-key attention: row 0 of ``y``'s k and v is the null key/value, row 0's query dropped."""
    return F.scaled_dot_product_attention(*_views(y), is_causal=True, scale=DG ** -0.5, enable_gqa=True)[..., 1:, :]


def null_lower_right(y: torch.Tensor) -> torch.Tensor:
    """The alternative: null key/value prepended, T queries over T+1 keys under a lower-right causal bias."""
    from torch.nn.attention.bias import causal_lower_right

    if not _NULL:
        _NULL.append(layers()[1])
    layer = _NULL[0]
    q, k, v = _views(y)
    k = torch.cat([layer.null_k.expand(1, -1, -1, -1), k], 2)
    v = torch.cat([layer.null_v.expand(1, -1, -1, -1), v], 2)
    bias = causal_lower_right(q.shape[-2], k.shape[-2])
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=DG ** -0.5, enable_gqa=True)


def op_rows(t: int, configs: list[str]) -> list[dict[str, object]]:
    """The op-level table at context ``t`` (module docstring)."""
    from torch.nn.attention import SDPBackend

    from caramba.kernels.dba_attention import dba_attention
    from caramba.kernels.dba_attention import kernel as dba_kernel

    def make(*shape):
        return torch.randn(*shape, device="cuda", dtype=DT, requires_grad=True)

    dba = [make(1, H, t, DS), make(1, H, t, DG), make(1, H_KV, t, DS), make(1, H_KV, t, DG), make(1, H_KV, t, DV)]
    a, b = DS ** -0.5, DG ** -0.5
    op = f"dba_attention T={t}"

    def sdpa_dba(qs, qg, ks, kg, v):
        q, k = torch.cat([qs * a, qg * b], -1), torch.cat([ks, kg], -1)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0, enable_gqa=True)

    stacked = [make(1, t, (H + H_KV) * (DS + DG) + H_KV * DV)]  # the layer's one projection output
    stacked_null = [make(1, t + 1, (H + H_KV) * (DS + DG) + H_KV * DV)]  # with the null key/value's row in front

    std = [make(1, H, t, DS + DG) for _ in range(3)]
    gqa = [make(1, H, t, 64), make(1, H_KV, t, 64), make(1, H_KV, t, 64)]

    def sdpa(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=q.shape[1] != k.shape[1])

    rows = [_timed(op, "caramba dba_attention kernel", lambda *x: dba_attention(*x, a, b, True), dba),
            _timed(op, "DBA SDPA path (views of one projection, as shipped)", shipped_sdpa, stacked),
            _timed(op, "DBA SDPA path (views of one projection), cuDNN forced", shipped_sdpa, stacked,
                   SDPBackend.CUDNN_ATTENTION),
            _timed(op, "DBA SDPA path before (concat q/k copies)", sdpa_dba, dba),
            _timed(op, "DBA + null key in the projection's extra row (ships)", null_row, stacked_null),
            _timed(op, "DBA + null key, zero query row (concatenated; cached prefill)", null_zero_row, stacked),
            _timed(op, "DBA + null key, lower-right causal bias", null_lower_right, stacked),
            _timed(op, "standard attn d32, cuDNN SDPA", sdpa, std, SDPBackend.CUDNN_ATTENTION),
            _timed(op, "standard attn d32, flash SDPA", sdpa, std, SDPBackend.FLASH_ATTENTION),
            _timed(op, "GQA attn d64 (baseline's), SDPA", sdpa, gqa)]
    original = dba_kernel._config, dba_kernel.per_head
    for config in configs:
        block, warps, stages, *mode = config.split(":")
        dba_kernel._config = lambda *_, c=(int(block), int(warps), int(stages)): c
        if mode == ["per-head"]:
            dba_kernel.per_head = lambda *_: True
        try:
            rows.append(_timed(op, f"caramba kernel BLOCK {block}, {warps} warps, {stages} stages"
                                   + (", dk/dv per query head" if mode else ""),
                               lambda *x: dba_attention(*x, a, b, True), dba))
        finally:
            dba_kernel._config, dba_kernel.per_head = original
    return rows


def layers() -> tuple[torch.nn.Module, torch.nn.Module]:
    """The GQA baseline's and DBA's attention layers at the dba_vs_gqa GPU shapes (bf16, CUDA)."""
    from caramba.engine.model.layers.attention import AttentionLayer
    from caramba.engine.model.layers.attention_decoupled import DecoupledAttention

    gqa = AttentionLayer(1024, H, H_KV).cuda().to(DT)
    dba = DecoupledAttention(1024, H, sem_dim=H * DS, geo_dim=H * DG, n_kv_heads=H_KV, null_attn=True,
                             gate=True).cuda().to(DT)
    return gqa, dba


def layer_rows(t: int) -> list[dict[str, object]]:
    """The layer-level table at context ``t`` (module docstring)."""
    from caramba.kernels import dispatch

    original, planned = dispatch.plan, dispatch.plan()
    sdpa_plan = dataclasses.replace(planned, triton=planned.triton - {"dba_attention"})
    kernel_plan = dataclasses.replace(planned, triton=planned.triton | {"dba_attention"})  # even when held back
    gqa, dba = layers()
    x = torch.randn(1, t, 1024, device="cuda", dtype=DT, requires_grad=True)
    dy = torch.randn_like(x)
    op = f"dba_layer T={t}"
    rows = []
    for impl, layer, plan in (("GQA", gqa, planned), ("DBA, SDPA path (shipped)", dba, sdpa_plan),
                              ("DBA, dba_attention kernel", dba, kernel_plan), ("GQA again", gqa, planned)):
        dispatch.plan = lambda plan=plan: plan
        try:
            def forward(layer=layer):
                with torch.no_grad():
                    return layer(x)
            rows.append(_row(op, impl, forward,
                             lambda layer=layer: torch.autograd.grad(layer(x), [x, *layer.parameters()], dy)))
        finally:
            dispatch.plan = original
    return rows


def rows(contexts: list[int], configs: list[str]) -> list[dict[str, object]]:
    """Both tables at every context; the config sweep at the first and last context only."""
    out: list[dict[str, object]] = []
    for i, t in enumerate(contexts):
        out += op_rows(t, configs if i in (0, len(contexts) - 1) else [])
        out += layer_rows(t)
    return out


def profile(t_layer: int, t_op: int, path: str) -> None:
    """Write torch.profiler tables (GPU time by kernel) of both layers' prefill at ``t_layer`` and of the
    attention op's fwd+bwd at ``t_op`` (DBA's shipped SDPA path, the standard d32 attention) to ``path``."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as profiler

    gqa, dba = layers()
    x = torch.randn(1, t_layer, 1024, device="cuda", dtype=DT)
    y = torch.randn(1, t_op, (H + H_KV) * (DS + DG) + H_KV * DV, device="cuda", dtype=DT, requires_grad=True)
    std = [torch.randn(1, H, t_op, DS + DG, device="cuda", dtype=DT, requires_grad=True) for _ in range(3)]

    def op_both(fn, inputs):
        out = fn(*inputs)
        torch.autograd.grad(out, inputs, torch.ones_like(out))

    cases = [(f"GQA layer prefill T={t_layer}", lambda: gqa(x)), (f"DBA layer prefill T={t_layer}", lambda: dba(x)),
             (f"DBA SDPA path fwd+bwd T={t_op}", lambda: op_both(shipped_sdpa, [y])),
             (f"standard attn d32 SDPA (default back end) fwd+bwd T={t_op}",
              lambda: op_both(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), std))]
    with open(path, "w") as fh:
        for name, fn in cases:
            with torch.no_grad() if "prefill" in name else torch.enable_grad():
                for _ in range(3):
                    fn()
                torch.cuda.synchronize()
                with profiler(activities=[ProfilerActivity.CUDA]) as prof:
                    for _ in range(5):
                        fn()
                    torch.cuda.synchronize()
            fh.write(f"## {name} (5 calls)\n{prof.key_averages().table(sort_by='device_time_total', row_limit=14)}\n")
