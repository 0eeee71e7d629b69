"""Leaf layers: shapes, gradients, and float64 references (MoE loop, sequential SSM, dense GCN/GAT)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.lora import merge_lora
from caramba.engine.model.layers.scan import linear_scan
from tests.model.helpers import assert_close, assert_grads_reach, built, issues

B, T, D = 2, 7, 12

SHAPE_PRESERVING = [
    {"type": "RMSNormLayer", "d_model": D},
    {"type": "LayerNormLayer", "d_model": D},
    {"type": "SwiGLULayer", "d_model": D, "d_ff": 20},
    {"type": "GEGLULayer", "d_model": D, "d_ff": 20},
    {"type": "ReGLULayer", "d_model": D, "d_ff": 20},
    {"type": "MLPLayer", "d_model": D, "d_ff": 20, "activation": "gelu_tanh"},
    {"type": "ActivationLayer", "fn": "silu"},
    {"type": "DropoutLayer", "p": 0.5},
    {"type": "PositionalEmbeddingLayer", "d_model": D, "max_seq_len": 16},
    {"type": "MoELayer", "d_model": D, "d_ff": 8, "n_experts": 3, "top_k": 2},
    {"type": "SSMLayer", "d_model": D, "d_state": 4, "expand": 2},
]


@pytest.mark.parametrize("config", SHAPE_PRESERVING, ids=lambda c: c["type"])
def test_shape_and_gradients(config: dict) -> None:
    layer = built(config)
    x = torch.randn(B, T, D, dtype=torch.float64, requires_grad=True)
    y = layer(x, ForwardContext())
    assert y.shape == (B, T, D)
    assert_grads_reach(layer, (y * torch.randn_like(y)).sum())
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_norms_and_glus_match_formulas() -> None:
    x = torch.randn(B, T, D, dtype=torch.float64)
    rms = built({"type": "RMSNormLayer", "d_model": D, "eps": 1e-6})
    nn.init.normal_(rms.weight)
    assert_close(rms(x), x / torch.sqrt(x.square().mean(-1, keepdim=True) + 1e-6) * rms.weight, atol=1e-6, what="rmsnorm")
    ln = built({"type": "LayerNormLayer", "d_model": D})
    mu, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
    assert_close(ln(x), (x - mu) / torch.sqrt(var + 1e-5), what="layernorm")
    for kind, act in (("SwiGLULayer", nn.functional.silu), ("GEGLULayer", nn.functional.gelu), ("ReGLULayer", torch.relu)):
        glu = built({"type": kind, "d_model": D, "d_ff": 9})
        want = (act(x @ glu.gate.weight.T) * (x @ glu.up.weight.T)) @ glu.down.weight.T
        assert_close(glu(x), want, what=kind)


def test_moe_matches_per_token_loop_with_capacity() -> None:
    layer = built({"type": "MoELayer", "d_model": D, "d_ff": 8, "n_experts": 4, "top_k": 2, "capacity_factor": 0.75})
    x = torch.randn(B, T, D, dtype=torch.float64)
    ctx = ForwardContext()
    got = layer(x, ctx)
    flat, want = x.reshape(-1, D), torch.zeros(B * T, D, dtype=torch.float64)
    capacity = math.ceil(0.75 * B * T * 2 / 4)
    load, dropped = [0] * 4, 0
    for s in range(B * T):  # token-major, then slot: the documented priority order
        probs = torch.softmax(flat[s] @ layer.router.weight.T, -1)
        weights, experts = probs.topk(2)
        for w, e in zip(weights / weights.sum(), experts.tolist()):
            if load[e] < capacity:
                want[s] += w * layer.experts[e](flat[s:s + 1])[0]
            else:
                dropped += 1
            load[e] += 1
    assert_close(got, want.view(B, T, D), what="moe")
    assert ctx.stats["moe_dropped_tokens"] == dropped > 0
    probs = torch.softmax(flat @ layer.router.weight.T, -1)
    f = nn.functional.one_hot(probs.topk(2).indices.reshape(-1), 4).double().mean(0)
    assert_close(ctx.aux_losses[0].double(), 4 * (f * probs.mean(0)).sum(), what="balance loss")


def test_scan_matches_sequential_recurrence() -> None:
    a = torch.rand(2, 13, 3, 4, dtype=torch.float64)
    b, h0 = torch.randn(2, 13, 3, 4, dtype=torch.float64), torch.randn(2, 3, 4, dtype=torch.float64)
    h, want = h0, []
    for t in range(13):
        h = a[:, t] * h + b[:, t]
        want.append(h)
    assert_close(linear_scan(a, b, h0), torch.stack(want, 1), what="scan")


def test_ssm_matches_sequential_mamba_and_chunking() -> None:
    layer = built({"type": "SSMLayer", "d_model": D, "d_state": 4, "d_conv": 3, "expand": 2})
    x = torch.randn(B, T, D, dtype=torch.float64)
    u, z = layer.in_proj(x).chunk(2, -1)
    u = nn.functional.silu(nn.functional.conv1d(nn.functional.pad(u.transpose(1, 2), (2, 0)), layer.conv.weight, layer.conv.bias,
                                                groups=layer.d_inner).transpose(1, 2))
    dt, bm, cm = layer.x_proj(u).split([layer.dt_rank, 4, 4], -1)
    dt = nn.functional.softplus(layer.dt_proj(dt))
    a = -torch.exp(layer.A_log)
    h, ys = torch.zeros(B, layer.d_inner, 4, dtype=torch.float64), []
    for t in range(T):
        h = torch.exp(dt[:, t, :, None] * a) * h + dt[:, t, :, None] * bm[:, t, None, :] * u[:, t, :, None]
        ys.append((h * cm[:, t, None, :]).sum(-1) + layer.D * u[:, t])
    want = layer.out_proj(torch.stack(ys, 1) * nn.functional.silu(z))
    assert_close(layer(x), want, what="ssm")
    state: dict = {}
    chunks = [layer(x[:, i:i + 3], ForwardContext(state=state)) for i in range(0, T, 3)]
    assert_close(torch.cat(chunks, 1), want, what="ssm chunked")


def dense_graph(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    adj = (torch.rand(n, n, generator=g) < 0.3).double().fill_diagonal_(0)
    dst, src = adj.nonzero(as_tuple=True)
    return torch.stack([src, dst]), adj  # adj[i, j] = 1: edge j → i


def test_gcn_and_gat_match_dense_adjacency() -> None:
    n, x = 9, torch.randn(9, 5, dtype=torch.float64)
    edges, adj = dense_graph(n)
    ctx = ForwardContext(edge_index=edges)
    gcn = built({"type": "GraphConvLayer", "d_in": 5, "d_out": 6})
    nn.init.normal_(gcn.bias)
    a_hat = adj + torch.eye(n, dtype=torch.float64)
    d = a_hat.sum(1).rsqrt()
    assert_close(gcn(x, ctx), d[:, None] * a_hat * d[None] @ (x @ gcn.weight.weight.T) + gcn.bias, what="gcn")
    gat = built({"type": "GraphConvLayer", "d_in": 5, "d_out": 6, "mode": "gat", "n_heads": 2})
    h = (x @ gat.weight.weight.T).view(n, 2, 3)
    outs = []
    for k in range(2):
        e = nn.functional.leaky_relu((h[:, k] @ gat.att_dst[k])[:, None] + (h[:, k] @ gat.att_src[k])[None], 0.2)
        alpha = torch.softmax(e.masked_fill(a_hat == 0, float("-inf")), dim=1)
        outs.append(alpha @ h[:, k])
    assert_close(gat(x, ctx), torch.cat(outs, -1) + gat.bias, what="gat")
    for layer in (gcn, gat):
        layer.zero_grad()
        assert_grads_reach(layer, (layer(x, ctx) * torch.randn(n, 6, dtype=torch.float64)).sum())


def test_lora_starts_at_base_trains_adapters_and_merges() -> None:
    base = nn.Linear(D, 5, bias=True).double()
    from caramba.engine.model.layers.lora import LoRALinearLayer

    lora = LoRALinearLayer.from_linear(base, r=3, alpha=6.0)
    x = torch.randn(B, T, D, dtype=torch.float64)
    assert_close(lora(x), base(x), what="lora at init")
    nn.init.normal_(lora.lora_b)
    assert [n for n, p in lora.named_parameters() if p.requires_grad] == ["lora_a", "lora_b"]
    assert_grads_reach(lora, lora(x).square().sum())
    wrapper = nn.Sequential(lora)
    want = wrapper(x)
    merge_lora(wrapper)
    assert_close(wrapper[0](x), want, what="merged")
    assert any("rank r=9" in m for m in issues({"type": "LoRALinearLayer", "d_in": 4, "d_out": 8, "r": 9}, 4))


def test_heads_embedders_and_positions() -> None:
    head = built({"type": "DenoisingHeadLayer", "d_model": D, "d_out": 3})
    assert head(torch.randn(4, D, dtype=torch.float64)).abs().max() == 0  # zero init
    nn.init.normal_(head.proj.weight)
    assert_grads_reach(head, head(torch.randn(4, D, dtype=torch.float64)).square().sum())
    pos = built({"type": "PositionalEmbeddingLayer", "d_model": 4, "max_seq_len": 8, "kind": "sinusoidal"})
    out = pos(torch.zeros(1, 2, 4, dtype=torch.float64), ForwardContext(start_pos=5))
    p = torch.tensor([5.0, 6.0], dtype=torch.float64)[:, None]
    want = torch.stack([torch.sin(p[:, 0]), torch.cos(p[:, 0]), torch.sin(p[:, 0] / 100), torch.cos(p[:, 0] / 100)], -1)
    assert_close(out[0], want, atol=1e-6, what="sinusoidal")
    with pytest.raises(ValueError, match="max_seq_len"):
        pos(torch.zeros(1, 4, 4, dtype=torch.float64), ForwardContext(start_pos=6))
