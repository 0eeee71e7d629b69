"""``kv_decode``: attention over q8/q4 codes (plus an exact window) against a float64 reference."""

from __future__ import annotations

import math

import pytest
import torch

from caramba.engine.infer.cache.quant import dequantize, quantize
from caramba.kernels.kv_decode.kernel import Segment, kv_decode
from tests.kernels.conftest import assert_close, randn


def reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    """softmax(scale · q kᵀ) v in float64, each KV head repeated for its G query heads (GQA)."""
    group = q.shape[1] // k.shape[1]
    k, v = k.double().repeat_interleave(group, 1), v.double().repeat_interleave(group, 1)
    return torch.softmax(q.double() @ k.transpose(-1, -2) * scale, dim=-1) @ v


@pytest.mark.parametrize("b,h,h_kv,n,window,d,block,k_kind,v_kind", [
    (2, 8, 2, 77, 5, 48, 16, "q8", "q8"),     # GQA 4, odd lengths, D not a power of two
    (1, 3, 3, 300, 0, 64, 32, "q4", "q8"),    # MHA, no window, mixed kinds, two splits
    (1, 4, 1, 1, 3, 32, 8, "q4", "q4"),       # one quantised token, G = 4
])
def test_kv_decode_matches_float64_reference(b, h, h_kv, n, window, d, block, k_kind, v_kind, generator) -> None:
    k, v = randn(generator, b, h_kv, n, d, dtype=torch.float32), randn(generator, b, h_kv, n, d, dtype=torch.float32)
    q = randn(generator, b, h, 1, d, dtype=torch.bfloat16)
    k_codes, k_scales = quantize(k, k_kind, block)
    v_codes, v_scales = quantize(v, v_kind, block)
    segments = [Segment(k_codes, k_scales, k_kind, v_codes, v_scales, v_kind, n)]
    k_all = dequantize(k_codes, k_scales, k_kind, block, torch.float64)
    v_all = dequantize(v_codes, v_scales, v_kind, block, torch.float64)
    if window:
        k_win = randn(generator, b, h_kv, window, d, dtype=torch.bfloat16)
        v_win = randn(generator, b, h_kv, window, d, dtype=torch.bfloat16)
        segments.append(Segment(k_win, None, "dense", v_win, None, "dense", window))
        k_all, v_all = torch.cat([k_all, k_win.double()], 2), torch.cat([v_all, v_win.double()], 2)
    scale = 1 / math.sqrt(d)
    out = kv_decode(q, segments, block, scale)
    assert out.shape == q.shape and out.dtype == q.dtype
    assert_close("out", out, reference(q, k_all, v_all, scale), torch.bfloat16)


@pytest.mark.parametrize("d,block", [(16, 16), (16, 4), (8, 8)])
def test_kv_decode_narrow_q4_heads_match_float64_reference(d, block, generator) -> None:
    """q4 heads of 16 and 8 values (DBA's narrow semantic/geometric heads): 8 and 4 bytes a row."""
    k, v = (randn(generator, 1, 2, 45, d, dtype=torch.float32) for _ in range(2))
    q = randn(generator, 1, 4, 1, d, dtype=torch.bfloat16)
    (kc, ks), (vc, vs) = quantize(k, "q4", block), quantize(v, "q4", block)
    out = kv_decode(q, [Segment(kc, ks, "q4", vc, vs, "q4", 45)], block, d ** -0.5)
    ref = reference(q, dequantize(kc, ks, "q4", block, torch.float64), dequantize(vc, vs, "q4", block, torch.float64),
                    d ** -0.5)
    assert_close("out", out, ref, torch.bfloat16)


@pytest.mark.parametrize("kind", ["dense", "q8", "q4"])
def test_kv_decode_reads_its_length_from_the_device(kind, generator) -> None:
    """A static cache's length lives in a device tensor: only that many of the buffer's 200 tokens are read."""
    n, d, block = 77, 32, 16
    k, v = (randn(generator, 2, 2, 200, d, dtype=torch.float32) for _ in range(2))
    q = randn(generator, 2, 4, 1, d, dtype=torch.bfloat16)
    if kind == "dense":
        segment = Segment(k.to(torch.bfloat16), None, kind, v.to(torch.bfloat16), None, kind, torch.tensor([n], device=k.device))
        k_all, v_all = k.to(torch.bfloat16).double(), v.to(torch.bfloat16).double()
    else:
        (kc, ks), (vc, vs) = quantize(k, kind, block), quantize(v, kind, block)
        segment = Segment(kc, ks, kind, vc, vs, kind, torch.tensor([n], device=kc.device))
        k_all, v_all = (dequantize(c, s_, kind, block, torch.float64) for c, s_ in ((kc, ks), (vc, vs)))
    out = kv_decode(q, [segment], block, d ** -0.5)
    assert_close("out", out, reference(q, k_all[:, :, :n], v_all[:, :, :n], d ** -0.5), torch.bfloat16)


def test_kv_decode_rejects_a_block_size_it_cannot_tile(generator) -> None:
    q = randn(generator, 1, 2, 1, 48, dtype=torch.float32)
    k_codes, k_scales = quantize(randn(generator, 1, 2, 4, 48, dtype=torch.float32), "q8", 12)
    with pytest.raises(ValueError, match="power of two"):
        kv_decode(q, [Segment(k_codes, k_scales, "q8", k_codes, k_scales, "q8", 4)], 12, 0.1)


def test_attention_decodes_through_the_quantised_cache_kernel(monkeypatch) -> None:
    """A GQA layer decoding from a q8 cache (with exact window) gives the PyTorch path's outputs via kv_decode."""
    from caramba.engine.infer.cache.model import ModelCache
    from caramba.engine.infer.cache.policy import CachePolicy
    from caramba.engine.model.context import ForwardContext
    from caramba.engine.model.layers.attention import AttentionLayer
    from caramba.kernels import dispatch
    from caramba.kernels.dispatch import choose
    from caramba.kernels.registry import OPS
    from tests.kernels.conftest import DEVICE, Everywhere

    torch.manual_seed(0)
    layer = AttentionLayer(32, 4, 2).to(DEVICE)
    x = torch.randn(1, 9, 32, device=DEVICE)

    def generate(plan) -> torch.Tensor:
        monkeypatch.setattr(dispatch, "plan", lambda: plan)
        cache = ModelCache(CachePolicy(kind="q8", block_size=8, residual_window=2))
        outs = [layer(x[:, :5], ForwardContext(start_pos=0, cache=cache))]
        outs += [layer(x[:, t:t + 1], ForwardContext(start_pos=t, cache=cache)) for t in range(5, 9)]
        return torch.cat(outs, dim=1)

    with torch.no_grad():
        ref = generate(choose("cpu", None, False))
        everywhere = Everywhere("cuda", frozenset(OPS))
        got = generate(everywhere)
    assert everywhere.asked.count("kv_decode") == 4, "each decode step must take the fused kernel"
    torch.testing.assert_close(got, ref, rtol=2e-3, atol=2e-3)


def test_kv_decode_dba_two_key_parts_match_float64_reference(generator) -> None:
    """DBA: a·q_sem·k_sem + b·q_geo·k_geo over q8 semantic keys, q4 geometric keys, q8 values, a dense window."""
    b, h, h_kv, n, window, ds, dg, dv, block = 1, 4, 2, 70, 3, 16, 32, 48, 16
    q_sem, q_geo = randn(generator, b, h, 1, ds, dtype=torch.bfloat16), randn(generator, b, h, 1, dg, dtype=torch.bfloat16)
    k_sem, k_geo = randn(generator, b, h_kv, n, ds, dtype=torch.float32), randn(generator, b, h_kv, n, dg, dtype=torch.float32)
    v = randn(generator, b, h_kv, n, dv, dtype=torch.float32)
    (ks_c, ks_s), (kg_c, kg_s), (v_c, v_s) = quantize(k_sem, "q8", block), quantize(k_geo, "q4", block), quantize(v, "q8", block)
    windows = [randn(generator, b, h_kv, window, d, dtype=torch.bfloat16) for d in (ds, dg, dv)]
    segments = [Segment(ks_c, ks_s, "q8", v_c, v_s, "q8", n, kg_c, kg_s, "q4"),
                Segment(windows[0], None, "dense", windows[2], None, "dense", window, windows[1], None, "dense")]
    a, bb = ds ** -0.5, dg ** -0.5
    out = kv_decode(q_sem, segments, block, a, q_geo, bb)

    k_sem64 = torch.cat([dequantize(ks_c, ks_s, "q8", block, torch.float64), windows[0].double()], 2)
    k_geo64 = torch.cat([dequantize(kg_c, kg_s, "q4", block, torch.float64), windows[1].double()], 2)
    v64 = torch.cat([dequantize(v_c, v_s, "q8", block, torch.float64), windows[2].double()], 2)
    group = h // h_kv
    scores = (a * q_sem.double() @ k_sem64.repeat_interleave(group, 1).transpose(-1, -2)
              + bb * q_geo.double() @ k_geo64.repeat_interleave(group, 1).transpose(-1, -2))
    ref = torch.softmax(scores, -1) @ v64.repeat_interleave(group, 1)
    assert out.shape == (b, h, 1, dv)
    assert_close("out", out, ref, torch.bfloat16)


@pytest.mark.parametrize("kind", ["q8", "q4"])
def test_dba_decodes_through_the_quantised_cache_kernel(kind, monkeypatch) -> None:
    """A DBA layer (GQA, null key/value, gate, 16-wide heads) decoding from a q8 or q4 cache gives the PyTorch
    path's outputs via kv_decode."""
    from caramba.engine.infer.cache.model import ModelCache
    from caramba.engine.infer.cache.policy import CachePolicy
    from caramba.engine.model.context import ForwardContext
    from caramba.engine.model.layers.attention_decoupled import DecoupledAttention
    from caramba.kernels import dispatch
    from caramba.kernels.dispatch import choose
    from caramba.kernels.registry import OPS
    from tests.kernels.conftest import DEVICE, Everywhere

    torch.manual_seed(0)
    layer = DecoupledAttention(64, 4, sem_dim=64, geo_dim=64, n_kv_heads=2, null_attn=True, gate=True).to(DEVICE)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    x = torch.randn(1, 8, 64, device=DEVICE)

    def generate(plan) -> torch.Tensor:
        monkeypatch.setattr(dispatch, "plan", lambda: plan)
        cache = ModelCache(CachePolicy(kind=kind, block_size=16, residual_window=2))
        outs = [layer(x[:, :5], ForwardContext(start_pos=0, cache=cache))]
        outs += [layer(x[:, t:t + 1], ForwardContext(start_pos=t, cache=cache)) for t in range(5, 8)]
        return torch.cat(outs, dim=1)

    import caramba.kernels.kv_decode as package

    calls: list[int] = []
    fused = package.kv_decode
    monkeypatch.setattr(package, "kv_decode", lambda *a, **k: calls.append(1) or fused(*a, **k))
    with torch.no_grad():
        ref = generate(choose("cpu", None, False))
        everywhere = Everywhere("cuda", frozenset(OPS))
        got = generate(everywhere)
    assert everywhere.asked.count("kv_decode") == 3, "each decode step must ask the dispatch"
    assert len(calls) == 3, "every decode step fused"
    torch.testing.assert_close(got, ref, rtol=3e-3, atol=3e-3)


@pytest.mark.parametrize("kind,tuning", [("q8", (32, 64, 8, 1)), ("q4", (128, 128, 4, 3)), ("dense", (16, 48, 2, 2))])
def test_kv_decode_other_launch_configurations_match_float64_reference(kind, tuning, generator) -> None:
    """Every configuration the sweep times must compute the same attention: tiles of 16–128 tokens, spans that are
    not a multiple of the length (150 tokens), 2–8 warps."""
    from caramba.kernels.kv_decode.kernel import Config

    n, d, block = 150, 32, 16
    k, v = (randn(generator, 1, 2, n, d, dtype=torch.float32) for _ in range(2))
    q = randn(generator, 1, 6, 1, d, dtype=torch.bfloat16)
    if kind == "dense":
        k_all, v_all = k.to(torch.bfloat16), v.to(torch.bfloat16)
        segment = Segment(k_all, None, kind, v_all, None, kind, n)
    else:
        (kc, ks), (vc, vs) = quantize(k, kind, block), quantize(v, kind, block)
        segment = Segment(kc, ks, kind, vc, vs, kind, n)
        k_all, v_all = (dequantize(c, s_, kind, block, torch.float64) for c, s_ in ((kc, ks), (vc, vs)))
    out = kv_decode(q, [segment], block, d ** -0.5, tuning=Config(*tuning))
    assert_close("out", out, reference(q, k_all, v_all, d ** -0.5), torch.bfloat16)


def test_kv_decode_sweep_runs_and_checks_each_configuration(tmp_path) -> None:
    """The GPU sweep's command, on a tiny shape in the interpreter: a table row and a CSV row per configuration,
    each with its error against attention over the dequantised cache, the merge launch timed alone, and exit
    status 0 when all are right."""
    import csv

    from tests.kernels.conftest import kernel_benchmark

    with kernel_benchmark("kv_decode_sweep") as sweep:
        status = sweep.main(["--tiny", "--configs", "64:128:4:3,32:64:2:1", "--dense-configs", "64:128:4:3",
                             "--csv", str(tmp_path / "sweep.csv")])
    rows = list(csv.DictReader((tmp_path / "sweep.csv").open()))
    assert status == 0
    assert [(r["kind"], r["config"]) for r in rows] == [("fp16", ""), ("dense", "64:128:4:3"), ("q8", "64:128:4:3"),
                                                       ("q8", "32:64:2:1"), ("q4", "64:128:4:3"), ("q4", "32:64:2:1"),
                                                       ("merge", "64:128:4:3")]
    assert all(float(r["rel err"]) < 1e-2 and float(r["ms"]) > 0 for r in rows)
