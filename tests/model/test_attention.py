"""Attention (standard, GQA, DBA) and RoPE against explicit float64 references."""

from __future__ import annotations

import math

import pytest
import torch

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.rope import inverse_frequencies
from caramba.engine.model.topologies.recurrent import ChunkCache
from tests.model.helpers import assert_close, assert_grads_reach, built, issues

B, T, D, H = 2, 6, 16, 4


def rope_complex(x: torch.Tensor, start: int, base: float = 10000.0, scaling: dict | None = None) -> torch.Tensor:
    """Rotate (…, T, d) as complex numbers (x_i + i·x_{i+d/2})·e^{i·p·θ_i} (RoFormer eq. 34)."""
    half = x.shape[-1] // 2
    theta = inverse_frequencies(x.shape[-1], base, scaling).double()
    pos = torch.arange(start, start + x.shape[-2], dtype=torch.float64)
    rot = torch.polar(torch.ones(len(pos), half, dtype=torch.float64), torch.outer(pos, theta))
    z = torch.complex(x[..., :half], x[..., half:]) * rot
    return torch.cat([z.real, z.imag], dim=-1)


def explicit_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, causal: bool = True) -> torch.Tensor:
    """softmax(q kᵀ·scale + mask) v, keys aligned to the end (decode offset)."""
    scores = q @ k.transpose(-1, -2) * scale
    t_q, t_k = q.shape[-2], k.shape[-2]
    if causal:
        mask = torch.ones(t_q, t_k, dtype=torch.bool).tril(t_k - t_q)
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, -1) @ v


def heads(x: torch.Tensor, n: int) -> torch.Tensor:
    return x.view(x.shape[0], x.shape[1], n, -1).transpose(1, 2)


@pytest.mark.parametrize("mode,kv", [("standard", H), ("gqa", 2), ("gqa", 1)])
def test_attention_matches_explicit_softmax(mode: str, kv: int) -> None:
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "n_kv_heads": kv, "mode": mode, "bias": True})
    x = torch.randn(B, T, D, dtype=torch.float64)
    q = rope_complex(heads(layer.q_proj(x), H), 0)
    k = rope_complex(heads(layer.k_proj(x), kv), 0).repeat_interleave(H // kv, dim=1)  # GQA = repeated heads
    v = heads(layer.v_proj(x), kv).repeat_interleave(H // kv, dim=1)
    want = layer.o_proj(explicit_attention(q, k, v, 1 / math.sqrt(D // H)).transpose(1, 2).reshape(B, T, D))
    assert_close(layer(x), want, what=f"{mode} kv={kv}")
    assert_grads_reach(layer, layer(x).square().sum())


def test_gqa_inference_projects_qkv_once_and_rebuilds_the_stack_after_an_update(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generating (a cache, no gradients), q, k, v come from one kept stacked product; an update rebuilds it."""
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "n_kv_heads": 2, "mode": "gqa", "bias": True})
    x = torch.randn(B, T, D, dtype=torch.float64)

    def want() -> torch.Tensor:
        q = rope_complex(heads(layer.q_proj(x), H), 0)
        k = rope_complex(heads(layer.k_proj(x), 2), 0).repeat_interleave(H // 2, dim=1)
        v = heads(layer.v_proj(x), 2).repeat_interleave(H // 2, dim=1)
        return layer.o_proj(explicit_attention(q, k, v, 1 / math.sqrt(D // H)).transpose(1, 2).reshape(B, T, D))

    products: list[int] = []
    hook = torch.nn.functional.linear
    with torch.no_grad():
        monkeypatch.setattr(torch.nn.functional, "linear", lambda a, w, b=None: products.append(w.shape[0]) or hook(a, w, b))
        got = layer(x, ForwardContext(cache=ChunkCache()))
        plain = layer(x)  # without a cache (training, evaluation): the three Linears
        monkeypatch.undo()
        assert products == [D + 2 * 2 * (D // H), D, D, D // H * 2, D // H * 2, D], \
            f"one stacked q/k/v product and o_proj's, then q, k, v, o one by one: {products}"
        assert_close(got, want(), what="gqa, stacked projection")
        assert_close(plain, want(), what="gqa without a cache")
        kept = layer._qkv_stack._kept
        layer(x, ForwardContext(cache=ChunkCache()))
        assert layer._qkv_stack._kept is kept
        layer.k_proj.weight.mul_(-2.0)
        layer.v_proj.bias.add_(1.0)
        assert_close(layer(x, ForwardContext(cache=ChunkCache())), want(), what="gqa after an in-place update")


def test_compiled_training_stacks_qkv_in_the_graph_with_the_reference_values_and_gradients() -> None:
    """Traced by torch.compile, q/k/v are one product over the stacked weights (nanoGPT's c_attn); the
    output and every parameter's gradient equal the explicit float64 reference of the three projections."""
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "n_kv_heads": 2, "mode": "gqa", "bias": True})
    x = torch.randn(B, T, D, dtype=torch.float64)
    q = rope_complex(heads(layer.q_proj(x), H), 0)
    k = rope_complex(heads(layer.k_proj(x), 2), 0).repeat_interleave(H // 2, dim=1)
    v = heads(layer.v_proj(x), 2).repeat_interleave(H // 2, dim=1)
    want = layer.o_proj(explicit_attention(q, k, v, 1 / math.sqrt(D // H)).transpose(1, 2).reshape(B, T, D))
    reference = torch.autograd.grad(want.square().sum(), list(layer.parameters()))
    graphs: list[torch.fx.GraphModule] = []

    def backend(gm: torch.fx.GraphModule, inputs: list) -> object:
        graphs.append(gm)
        return gm.forward

    torch._dynamo.reset()
    got = torch.compile(layer, backend=backend, fullgraph=True)(x)
    products = [n for n in graphs[0].graph.nodes if n.op == "call_function" and n.target is torch._C._nn.linear]
    assert len(products) == 2, f"one stacked q/k/v product and o_proj's, got {len(products)}: {products}"
    assert_close(got, want, what="compiled gqa, stacked projection")
    grads = torch.autograd.grad(got.square().sum(), list(layer.parameters()))
    for (name, _), g, r in zip(layer.named_parameters(), grads, reference):
        assert_close(g, r, what=f"compiled gqa, gradient of {name}")
    torch._dynamo.reset()


def test_gqa_equals_mha_with_repeated_kv_weights() -> None:
    gqa = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "n_kv_heads": 2, "mode": "gqa"})
    mha = built({"type": "AttentionLayer", "d_model": D, "n_heads": H})
    hd = D // H
    with torch.no_grad():
        mha.q_proj.weight.copy_(gqa.q_proj.weight)
        mha.o_proj.weight.copy_(gqa.o_proj.weight)
        for name in ("k_proj", "v_proj"):
            w = getattr(gqa, name).weight.view(2, hd, D).repeat_interleave(H // 2, dim=0).reshape(D, D)
            getattr(mha, name).weight.copy_(w)
    x = torch.randn(B, T, D, dtype=torch.float64)
    assert_close(gqa(x), mha(x), what="gqa vs mha")


@pytest.mark.parametrize("config", [
    {"mode": "gqa", "n_kv_heads": 2},
    {"mode": "decoupled", "sem_dim": 8, "geo_dim": 8, "v_dim": 8, "n_kv_heads": 2, "null_attn": True},
])
def test_decode_with_cache_equals_full_pass(config: dict) -> None:
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, **config})
    x = torch.randn(B, T, D, dtype=torch.float64)
    full = layer(x)
    cache = ChunkCache()
    outs = [layer(x[:, :3], ForwardContext(cache=cache))]
    for t in range(3, T):
        outs.append(layer(x[:, t:t + 1], ForwardContext(start_pos=t, cache=cache)))
    assert_close(torch.cat(outs, 1), full, what="prefill + decode")


def dba_reference(layer: torch.nn.Module, x: torch.Tensor, kv: int) -> torch.Tensor:
    """The two-term DBA formula, head by head, with null key/value and gate."""
    g = H // kv
    ds, dg = layer.sem_head, layer.geo_head
    qs, qg = heads(layer.q_sem(x), H), rope_complex(heads(layer.q_geo(x), H), 0)
    k_sem, k_geo = (layer.q_sem, layer.q_geo) if layer.tie_qk else (layer.k_sem, layer.k_geo)
    ks, kg = heads(k_sem(x), kv), rope_complex(heads(k_geo(x), kv), 0)
    v = heads(layer.v_proj(x), kv)
    out = torch.zeros(B, H, T, layer.v_head, dtype=x.dtype)
    for h in range(H):
        j = h // g
        score = qs[:, h] @ ks[:, j].transpose(-1, -2) / math.sqrt(ds) + qg[:, h] @ kg[:, j].transpose(-1, -2) / math.sqrt(dg)
        if layer.causal:
            score = score.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        values = v[:, j]
        if layer.null_k is not None:
            nk, nv = layer.null_k[j, 0], layer.null_v[j, 0]
            null = (qs[:, h] @ nk[:ds] / math.sqrt(ds) + qg[:, h] @ nk[ds:] / math.sqrt(dg)).unsqueeze(-1)
            score = torch.cat([null, score], -1)
            values = torch.cat([nv.expand(B, 1, -1), values], 1)
        out[:, h] = torch.softmax(score, -1) @ values
    if layer.gate_proj is not None:
        out = out * 2 * torch.sigmoid(layer.gate_proj(x)).transpose(1, 2).unsqueeze(-1)
    return layer.o_proj(out.transpose(1, 2).reshape(B, T, -1))


@pytest.mark.parametrize("kv,null,gate", [(H, False, False), (2, True, True), (1, False, True)])
def test_dba_matches_two_term_formula(kv: int, null: bool, gate: bool) -> None:
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "mode": "decoupled", "sem_dim": 8, "geo_dim": 16,
                   "v_dim": 12, "n_kv_heads": kv, "null_attn": null, "gate": gate})
    if gate:
        torch.nn.init.normal_(layer.gate_proj.weight)
    x = torch.randn(B, T, D, dtype=torch.float64)
    assert_close(layer(x), dba_reference(layer, x, kv), what="dba")
    if null:
        torch.nn.init.normal_(layer.null_v)
    assert_grads_reach(layer, layer(x).square().sum())


def test_dba_non_causal_with_null_key_matches_two_term_formula() -> None:
    """Non-causal: every query sees every key and the null key (carried in the projection's extra row)."""
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "mode": "decoupled", "sem_dim": 8,
                   "geo_dim": 16, "n_kv_heads": 2, "null_attn": True, "gate": True, "causal": False})
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(B, T, D, dtype=torch.float64)
    assert_close(layer(x), dba_reference(layer, x, 2), what="non-causal dba with null key")


def test_dba_tied_and_biased_matches_two_term_formula() -> None:
    """tie_qk (keys from the query projections, unscaled) and biases go through the one stacked projection."""
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "mode": "decoupled", "sem_dim": 16,
                   "geo_dim": 8, "tie_qk": True, "bias": True, "gate": True})
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(B, T, D, dtype=torch.float64)
    assert_close(layer(x), dba_reference(layer, x, H), what="tied, biased dba")


def test_dba_inference_keeps_its_stacked_projection_until_a_parameter_changes() -> None:
    """Without gradients the one stacked projection is built once; an in-place update rebuilds it."""
    layer = built({"type": "AttentionLayer", "d_model": D, "n_heads": H, "mode": "decoupled", "sem_dim": 8,
                   "geo_dim": 16, "n_kv_heads": 2, "gate": True})
    x = torch.randn(B, T, D, dtype=torch.float64)
    with torch.no_grad():
        layer(x)
        stacked = layer._stacked
        assert_close(layer(x), dba_reference(layer, x, 2), what="dba, stack reused")
        assert layer._stacked is stacked
        layer.k_geo.weight.mul_(-2.0)
        torch.nn.init.normal_(layer.gate_proj.weight)
        assert_close(layer(x), dba_reference(layer, x, 2), what="dba after an in-place update")


def test_dba_gate_is_identity_at_init_and_tie_qk() -> None:
    cfg = {"type": "AttentionLayer", "d_model": D, "n_heads": H, "mode": "decoupled", "sem_dim": 8, "geo_dim": 8}
    plain, gated = built(cfg), built({**cfg, "gate": True})
    x = torch.randn(B, T, D, dtype=torch.float64)
    assert_close(gated(x), plain(x), what="gate at init")
    tied = built({**cfg, "tie_qk": True})
    assert tied.k_sem is None and tied(x).shape == (B, T, D)
    assert any("tie_qk" in m for m in issues({**cfg, "tie_qk": True, "n_kv_heads": 2}, D))


class RecordingCache:
    """Records the bytes a layer hands to the cache."""

    def __init__(self) -> None:
        self.bytes = 0

    def update(self, layer: torch.nn.Module, new: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        self.bytes += sum(t.numel() * t.element_size() for t in new.values())
        return tuple(new.values())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_dba_kv_cache_bytes_per_token(dtype: torch.dtype) -> None:
    sem, geo, v, kv = 8, 16, 12, 2
    cfg = {"type": "AttentionLayer", "d_model": D, "n_heads": H, "mode": "decoupled", "sem_dim": sem, "geo_dim": geo,
           "v_dim": v, "n_kv_heads": kv}
    layer, cache = built(cfg, dtype), RecordingCache()
    layer(torch.randn(B, T, D, dtype=dtype), ForwardContext(cache=cache))
    per_token = cache.bytes / (B * T)
    element = torch.tensor([], dtype=dtype).element_size()
    assert per_token == (sem + geo + v) * kv / H * element
    from tests.model.helpers import node

    assert node(cfg).kv_values_per_token() * element == per_token


def test_rope_matches_complex_formulation_with_scaling() -> None:
    x = torch.randn(B, H, T, 8, dtype=torch.float64)
    for scaling in (None, {"type": "linear", "factor": 4.0},
                    {"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 16}):
        layer = built({"type": "RopeLayer", "d_model": H * 8, "n_heads": H, "base": 500.0, "scaling": scaling})
        flat = x.transpose(1, 2).reshape(B, T, H * 8)
        got = layer(flat, ForwardContext(start_pos=3)).view(B, T, H, 8).transpose(1, 2)
        assert_close(got, rope_complex(x, 3, 500.0, scaling), atol=1e-6, what=f"rope {scaling}")


def test_llama3_scaling_matches_transformers() -> None:
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 64}
    config = LlamaConfig(hidden_size=64, num_attention_heads=2, rope_theta=500000.0, rope_scaling=scaling)
    want, _ = ROPE_INIT_FUNCTIONS["llama3"](config, "cpu")
    got = inverse_frequencies(32, 500000.0, {"type": "llama3", **{k: v for k, v in scaling.items() if k != "rope_type"}})
    assert_close(got.double(), want.double(), atol=1e-7, rtol=1e-6, what="llama3 inv_freq")


def test_attention_validation_messages() -> None:
    base = {"type": "AttentionLayer", "d_model": 30, "n_heads": 4}
    assert any("does not divide d_model" in m for m in issues(base, 30))
    assert any("n_kv_heads=3 does not divide" in m for m in issues({**base, "d_model": 32, "mode": "gqa", "n_kv_heads": 3}, 32))
    assert any("even" in m for m in issues({**base, "d_model": 12, "n_heads": 4}, 12))
    assert any("sem_dim" in m for m in issues({**base, "d_model": 32, "mode": "decoupled", "geo_dim": 8}, 32))
    assert any("d_model=32 but" in m for m in issues({**base, "d_model": 32}, 16))
