"""Static KV caches: greedy decode over them equals a full forward's argmax and the growing cache's tokens.

The captured (CUDA graph) path is checked against the same static steps run eagerly where CUDA
exists; the fused-kernel path of a static step runs in Triton's interpreter in
``tests/kernels/test_static_decode.py``.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from caramba.engine.infer import CachePolicy, StaticDecoder, decode_path, decoder, generate, generation
from caramba.engine.infer.throughput import weight_bytes_per_token
from caramba.engine.model.context import ForwardContext
from tests.bench.conftest import tiny_model

DBA_NULL_GATE = "{type: AttentionLayer, d_model: 64, n_heads: 4, n_kv_heads: 2, mode: decoupled, sem_dim: 32, " \
                "geo_dim: 32, v_dim: 64, null_attn: true, gate: true}"


def full_forward_greedy(model: torch.nn.Module, prompt: torch.Tensor, n: int) -> torch.Tensor:
    """The reference: each new token is the argmax of the whole sequence's forward pass (no cache)."""
    ids = prompt
    for _ in range(n):
        ids = torch.cat([ids, model(ids, ForwardContext())[:, -1].argmax(-1, keepdim=True)], dim=1)
    return ids


def perturbed(attention: str) -> torch.nn.Module:
    """A tiny model whose gates and null keys are not at their identity init (so they matter)."""
    from tests.bench import conftest

    model = conftest.tiny_model(attention) if attention in conftest.ATTENTION else None
    if model is None:
        conftest.ATTENTION["dba_null_gate"] = attention
        model = conftest.tiny_model("dba_null_gate")
        del conftest.ATTENTION["dba_null_gate"]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


@pytest.mark.parametrize("attention", ["gqa", DBA_NULL_GATE])
def test_static_greedy_equals_full_forward_argmax(attention: str) -> None:
    model = perturbed(attention)
    prompt = torch.randint(0, 97, (2, 6), generator=torch.Generator().manual_seed(1))
    state = decoder(model, CachePolicy("fp32"), 6 + 10)
    assert isinstance(state, StaticDecoder) and not state.path.captured
    assert torch.equal(generate(model, prompt, 10, policy=CachePolicy("fp32")), full_forward_greedy(model, prompt, 10))


@pytest.mark.parametrize("kind", ["q8", "q4", "bf16"])
def test_static_cache_gives_the_growing_cache_tokens(kind: str) -> None:
    """Same quantisation rule, same positions: the static buffers decode the tokens the growing cache does."""
    model = perturbed(DBA_NULL_GATE)
    prompt = torch.randint(0, 97, (1, 5), generator=torch.Generator().manual_seed(2))
    policy = CachePolicy(kind, 8)
    assert torch.equal(generate(model, prompt, 8, policy=policy), generate(model, prompt, 8, policy=policy, static=False))


def test_generation_reports_throughput_against_the_bandwidth_bound() -> None:
    model = tiny_model("gqa")
    result = generation(model, torch.randint(0, 97, (1, 4)), 6, policy=CachePolicy("fp32"))
    speed = result.throughput
    table = model.embedder.table.weight                     # untied: one row of it is read per token
    weights = sum(p.numel() * 4 for p in model.parameters()) - table.numel() * 4
    # 2 layers × (k, v) × 2 KV heads × 16 values × 4 bytes; the 5 steps read 5 … 9 tokens, 7 on average
    cache = 2 * 2 * 2 * 16 * 4 * 7
    assert weight_bytes_per_token(model) == weights and speed.bytes_per_token == int(weights + cache)
    assert speed.bound_ms == pytest.approx(1e3 * speed.bytes_per_token / (speed.bandwidth_gbps * 1e9))
    assert speed.bandwidth_fraction == pytest.approx(speed.bound_ms / speed.decode_ms_per_token)
    assert speed.tokens_per_s == pytest.approx(1e3 / speed.decode_ms_per_token)
    assert speed.path.startswith("static, eager steps, attention: PyTorch masked SDPA")


def test_decode_path_is_decided_from_the_model_policy_and_device(monkeypatch: pytest.MonkeyPatch) -> None:
    from caramba.kernels import dispatch

    model, cuda = tiny_model("gqa"), torch.device("cuda")
    monkeypatch.setattr(dispatch, "plan", lambda: dispatch.choose("cuda", (9, 0), True))
    assert decode_path(model, CachePolicy("q4", 16), cuda) == decode_path(model, CachePolicy("bf16"), cuda)
    chosen = decode_path(model, CachePolicy("q4", 16), cuda)
    assert chosen.static and chosen.captured and chosen.kernel
    assert not decode_path(model, CachePolicy("q8", 12), cuda).kernel                      # block not a power of two
    assert not decode_path(model, CachePolicy("fp32"), cuda).kernel                        # float32 attention kept
    assert not decode_path(model, CachePolicy("q8", 16), cuda, capture=False).captured
    assert not decode_path(model, CachePolicy("q8", 16, residual_window=4), cuda).static
    cpu = decode_path(model, CachePolicy("q8", 16), torch.device("cpu"))
    assert cpu.static and not cpu.captured and not cpu.kernel


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
@pytest.mark.parametrize("kind", ["bf16", "q8", "q4"])
def test_captured_steps_give_the_eager_static_tokens(kind: str) -> None:
    model = perturbed(DBA_NULL_GATE).cuda()
    prompt = torch.randint(0, 97, (1, 9), device="cuda")
    policy = CachePolicy(kind, 8)
    captured = generation(model, prompt, 12, policy=policy)
    assert captured.throughput.path.startswith("captured (CUDA graph)")
    assert torch.equal(captured.ids, generate(model, prompt, 12, policy=policy, capture=False))


class _Ops(TorchDispatchMode):
    """Counts the ops a forward pass runs, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.count: dict[str, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = func.overloadpacket.__name__
        self.count[name] = self.count.get(name, 0) + 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("attention", ["gqa", DBA_NULL_GATE])
def test_decode_steps_pick_rope_rows_built_once_for_all_layers(attention: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A later step builds no RoPE table (one row picked for both layers); its logits are those of per-layer tables."""
    from caramba.engine.model.layers.rope import Rope

    model = perturbed(attention)
    prompt = torch.randint(0, 97, (1, 5), generator=torch.Generator().manual_seed(3))

    def three_steps() -> tuple[torch.Tensor, dict[str, int]]:
        state = decoder(model, CachePolicy("fp32"), 9)
        token = state.prefill(prompt).argmax(-1, keepdim=True)
        for _ in range(2):
            token = state.step(token).argmax(-1, keepdim=True)
        with _Ops() as ops:
            logits = state.step(token)
        return logits, ops.count

    shared, ops = three_steps()
    assert ops.get("cos", 0) == 0 and ops.get("index_select", 0) == 1, f"one row picked for the 2 layers: {ops}"
    angles = Rope.angles
    monkeypatch.setattr(Rope, "angles", lambda self, start, length, device, shared=None: angles(self, start, length,
                                                                                                 device))
    per_layer, ops = three_steps()
    assert ops["cos"] == 2 and torch.equal(shared, per_layer)
