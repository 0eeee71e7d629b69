"""``dba_attention``: the two-term flash kernel (forward, every gradient, null key) against float64."""

from __future__ import annotations

import math

import pytest
import torch

from caramba.kernels.dba_attention import dba_attention
from caramba.kernels.dba_attention.kernel import DBAAttentionFunction
from tests.kernels.conftest import DEVICE, assert_close, randn

# Triton's CPU interpreter multiplies bfloat16 tiles in tl.dot wrongly (it reads their bits as
# another type: lse ~1e10 on unit data), so the 16-bit case runs float16 there and bfloat16
# on a GPU, where the kernel's bf16 products are the ones the model uses.
HALF = torch.bfloat16 if DEVICE == "cuda" else torch.float16


def reference(q_sem, q_geo, k_sem, k_geo, v, a, b, causal, null_k=None, null_v=None):
    """softmax(a·q_sem k_semᵀ + b·q_geo k_geoᵀ [causal]) v in float64, written from the DBA paper's formula.

    Each KV head is repeated for its G query heads (GQA); a null key/value is one more key
    column every query sees.
    """
    group = q_sem.shape[1] // k_sem.shape[1]
    k_sem, k_geo, v = (x.repeat_interleave(group, 1) for x in (k_sem, k_geo, v))
    s = a * q_sem @ k_sem.transpose(-1, -2) + b * q_geo @ k_geo.transpose(-1, -2)
    t = s.shape[-1]
    if causal:
        s = s.masked_fill(torch.ones(t, t, dtype=torch.bool, device=s.device).triu(1), float("-inf"))
    if null_k is not None:
        ds = q_sem.shape[-1]
        nk, nv = null_k[:, 0].repeat_interleave(group, 0), null_v[:, 0].repeat_interleave(group, 0)
        s0 = a * q_sem @ nk[:, :ds, None] + b * q_geo @ nk[:, ds:, None]          # (B, H, T, 1)
        s = torch.cat([s0, s], -1)
        v = torch.cat([nv[None, :, None, :].expand(v.shape[0], -1, 1, -1), v], -2)
    return torch.softmax(s, -1) @ v


@pytest.mark.parametrize("b,h,h_kv,t,ds,dg,dv,dtype,causal,null", [
    (2, 4, 2, 37, 8, 12, 20, torch.float32, True, False),     # GQA 2, odd T and widths below 16
    (1, 3, 1, 23, 16, 16, 24, HALF, True, True),    # GQA 3, null key/value
    (1, 2, 2, 1, 4, 6, 5, torch.float32, True, True),         # T = 1
    (1, 2, 1, 19, 12, 20, 33, torch.float32, False, False),   # non-causal, width over 32
])
def test_dba_attention_matches_float64_reference(b, h, h_kv, t, ds, dg, dv, dtype, causal, null, generator) -> None:
    q_sem, q_geo = randn(generator, b, h, t, ds, dtype=dtype), randn(generator, b, h, t, dg, dtype=dtype)
    k_sem, k_geo = randn(generator, b, h_kv, t, ds, dtype=dtype), randn(generator, b, h_kv, t, dg, dtype=dtype)
    v = randn(generator, b, h_kv, t, dv, dtype=dtype)
    null_k = randn(generator, h_kv, 1, ds + dg, dtype=dtype) if null else None
    null_v = randn(generator, h_kv, 1, dv, dtype=dtype) if null else None
    inputs = [x for x in (q_sem, q_geo, k_sem, k_geo, v, null_k, null_v) if x is not None]
    for x in inputs:
        x.requires_grad_()
    a, bb = 1 / math.sqrt(ds), 1 / math.sqrt(dg)
    out = dba_attention(q_sem, q_geo, k_sem, k_geo, v, a, bb, causal, null_k, null_v)
    d_out = randn(generator, *out.shape, dtype=dtype)
    grads = torch.autograd.grad(out, inputs, d_out)

    inputs64 = [x.detach().double().requires_grad_() for x in inputs]
    full = inputs64 + [None, None] if not null else inputs64
    ref = reference(*full[:5], a, bb, causal, *full[5:])
    grads64 = torch.autograd.grad(ref, inputs64, d_out.double())

    assert out.dtype == dtype and out.shape == (b, h, t, dv)
    assert_close("out", out, ref, dtype)
    names = ["dq_sem", "dq_geo", "dk_sem", "dk_geo", "dv", "dnull_k", "dnull_v"]
    for name, got, want in zip(names, grads, grads64):
        assert_close(name, got, want, dtype, scale=4)


def test_dba_attention_lse_gradient_enters_the_backward(generator) -> None:
    """The lse output is differentiable on its own (the null-key merge relies on it)."""
    q_sem, q_geo, k_sem, k_geo = (randn(generator, 1, 2, 9, 8, dtype=torch.float32).requires_grad_() for _ in range(4))
    v = randn(generator, 1, 2, 9, 8, dtype=torch.float32).requires_grad_()
    _, lse = DBAAttentionFunction.apply(q_sem, q_geo, k_sem, k_geo, v, 0.5, 0.25, True)
    inputs = (q_sem, q_geo, k_sem, k_geo)
    grads = torch.autograd.grad(lse.sum(), inputs)
    x64 = [x.detach().double().requires_grad_() for x in inputs]
    s = 0.5 * x64[0] @ x64[2].transpose(-1, -2) + 0.25 * x64[1] @ x64[3].transpose(-1, -2)
    s = s.masked_fill(torch.ones(9, 9, dtype=torch.bool, device=s.device).triu(1), float("-inf"))
    grads64 = torch.autograd.grad(torch.logsumexp(s, -1).sum(), x64)
    assert_close("lse", lse, torch.logsumexp(s, -1), torch.float32)
    for name, got, want in zip(["dq_sem", "dq_geo", "dk_sem", "dk_geo"], grads, grads64):
        assert_close(name, got, want, torch.float32, scale=4)


def test_dba_attention_per_head_key_gradients_sum_each_group(generator, monkeypatch) -> None:
    """The dk/dv kernel's per-query-head mode (short sequences on a GPU) gives the same gradients."""
    from caramba.kernels.dba_attention import kernel

    monkeypatch.setattr(kernel, "per_head", lambda *_: True)
    q_sem, q_geo = (randn(generator, 1, 4, 21, 8, dtype=torch.float32).requires_grad_() for _ in range(2))
    k_sem, k_geo, v = (randn(generator, 1, 2, 21, 8, dtype=torch.float32).requires_grad_() for _ in range(3))
    inputs = (q_sem, q_geo, k_sem, k_geo, v)
    out = dba_attention(*inputs, 0.5, 0.3, True)
    grads = torch.autograd.grad(out, inputs, torch.ones_like(out))
    inputs64 = [x.detach().double().requires_grad_() for x in inputs]
    grads64 = torch.autograd.grad(reference(*inputs64, 0.5, 0.3, True), inputs64, torch.ones_like(out).double())
    for name, got, want in zip(["dq_sem", "dq_geo", "dk_sem", "dk_geo", "dv"], grads, grads64):
        assert_close(name, got, want, torch.float32, scale=4)
