"""KV caches: decode with every cache kind reproduces the full forward; measured bytes shrink as claimed.

Reference: the logits of one full forward over the whole sequence (no cache). Decode:
a prefill of the first 10 tokens, then one token at a time through the cache. The error
is max|decode − full| / max|full| over every decoded position.

Bounds (stated here, and in docs/benchmarks.md): fp32 1e-5, fp16 1e-3, bf16 1e-2,
q8 1e-2, q4 8e-2 — measured errors on these models are about 5× below each bound.
"""

from __future__ import annotations

import pytest
import torch

from caramba.engine.infer import CachePolicy, ModelCache, cache_bytes, decoder, plan_budget, probe_layout
from caramba.engine.infer.cache.quant import dequantize, quantize
from caramba.engine.model.context import ForwardContext
from tests.bench.conftest import tiny_model

BOUNDS = {"fp32": 1e-5, "fp16": 1e-3, "bf16": 1e-2, "q8": 1e-2, "q4": 8e-2}
MODES = ("standard", "gqa", "decoupled")


def relative_error(decoded: torch.Tensor, full: torch.Tensor) -> float:
    return float((decoded - full).abs().max() / full.abs().max())


def decode_logits(model: torch.nn.Module, ids: torch.Tensor, policy: CachePolicy, prefill: int = 10) -> torch.Tensor:
    state = decoder(model, policy, ids.shape[1])
    steps = [state.prefill(ids[:, :prefill])]
    steps += [state.step(ids[:, t:t + 1]) for t in range(prefill, ids.shape[1])]
    return torch.stack(steps, dim=1)                                     # (B, T − prefill + 1, V)


@pytest.fixture(scope="module")
def models() -> dict[str, torch.nn.Module]:
    return {mode: tiny_model(mode) for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", list(BOUNDS))
def test_decode_matches_full_forward(models: dict[str, torch.nn.Module], mode: str, kind: str) -> None:
    model, ids = models[mode], torch.randint(0, 97, (2, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(ids)[:, 9:]
    for window in (0, 8):
        error = relative_error(decode_logits(model, ids, CachePolicy(kind, block_size=16, residual_window=window)), full)
        assert error <= BOUNDS[kind], f"{mode}/{kind}/r{window}: relative logit error {error:.2e} > {BOUNDS[kind]:.0e}"


def test_dba_tensors_each_use_their_own_kind(models: dict[str, torch.nn.Module]) -> None:
    policy = CachePolicy("fp16", block_size=16, kinds={"k_sem": "q4", "k_geo": "fp16", "v": "q8"})
    cache = ModelCache(policy, capacity=64)
    with torch.no_grad():
        models["decoupled"](torch.randint(0, 97, (1, 64)), ForwardContext(cache=cache))
    # per layer (2 layers), 2 kv heads, 64 tokens: k_sem width 16 as q4, k_geo width 32 as fp16, v width 32 as q8
    assert cache.breakdown() == {"k_sem": 2 * 2 * 64 * (8 + 2), "k_geo": 2 * 2 * 64 * 32 * 2, "v": 2 * 2 * 64 * (32 + 4)}
    assert cache.length == 64


def test_quantised_kv_bytes_at_4k_tokens(models: dict[str, torch.nn.Module]) -> None:
    measured = {}
    for kind in ("fp16", "q8", "q4"):
        cache = ModelCache(CachePolicy(kind, block_size=32), capacity=4096)
        with torch.no_grad():
            models["standard"](torch.randint(0, 97, (1, 4096)), ForwardContext(cache=cache))
        measured[kind] = cache.nbytes()
        assert cache.nbytes() == cache.allocated_nbytes(), "capacity = length: every allocated byte holds a token"
    assert measured["fp16"] / measured["q8"] >= 1.85, measured
    assert measured["fp16"] / measured["q4"] >= 3.4, measured


@pytest.mark.parametrize("kind", ["q8", "q4"])
def test_quantisation_error_within_half_a_step(kind: str) -> None:
    x = torch.randn(3, 2, 5, 48) * torch.logspace(-2, 2, 48)                 # odd shapes, widely varying scales
    codes, scales = quantize(x, kind, 16)
    assert codes.dtype == (torch.int8 if kind == "q8" else torch.uint8)
    assert codes.shape[-1] == (48 if kind == "q8" else 24) and scales.shape[-1] == 3
    error = (dequantize(codes, scales, kind, 16, torch.float32) - x).abs().unflatten(-1, (3, 16))
    step = scales.float().unsqueeze(-1)
    assert bool((error <= 0.5 * step * 1.001 + 1e-6 * x.abs().amax()).all())


def test_block_size_must_divide_the_head_width(models: dict[str, torch.nn.Module]) -> None:
    with pytest.raises(ValueError, match=r"block_size 24 does not divide the head width 32.*set cache.block_size"):
        with torch.no_grad():
            models["standard"](torch.randint(0, 97, (1, 4)), ForwardContext(cache=ModelCache(CachePolicy("q8", 24))))


def test_budget_formula_equals_measured_bytes_and_plans_contexts(models: dict[str, torch.nn.Module]) -> None:
    model = models["decoupled"]
    layout = probe_layout(model)
    for policy in (CachePolicy("bf16"), CachePolicy("q8", 16, 8), CachePolicy("q4", 16, 0, {"k_geo": "fp16"})):
        cache = ModelCache(policy, capacity=50)
        with torch.no_grad():
            model(torch.randint(0, 97, (2, 50)), ForwardContext(cache=cache))
        assert cache.nbytes() == cache_bytes(layout, 50, policy, batch=2), policy
    plan = plan_budget(model, 1 << 20, kinds=("fp32", "fp16", "q8", "q4"), block_size=16)
    assert plan["fp32"] < plan["fp16"] < plan["q8"] < plan["q4"]
    assert cache_bytes(layout, plan["q4"], CachePolicy("q4", 16)) <= 1 << 20 < cache_bytes(layout, plan["q4"] + 1, CachePolicy("q4", 16))
