"""The kernel dispatch: the per-op choice, its log lines, and the layers calling it."""

from __future__ import annotations

import pytest
import torch

from caramba.engine.capabilities import detect
from caramba.engine.model.layers.attention import AttentionLayer
from caramba.engine.model.layers.attention_decoupled import DecoupledAttention
from caramba.engine.model.layers.glu import GEGLULayer, SwiGLULayer
from caramba.engine.model.layers.norm import LayerNormLayer, RMSNormLayer
from caramba.kernels import dispatch
from caramba.kernels.dispatch import choose
from caramba.kernels.registry import OPS, lookup
from tests.kernels.conftest import DEVICE, Everywhere


def test_cuda_with_triton_and_ampere_takes_every_kernel_not_held_back() -> None:
    plan = choose("cuda", (9, 0), True)
    held = {name for name, op in OPS.items() if op.held_back}
    assert plan.triton == frozenset(OPS) - held
    assert "Triton kernel" in plan.path("rms_norm")
    for name in held:  # a kernel measured slower than PyTorch's path stays off, and the log says why
        assert "measured slower" in plan.path(name)


@pytest.mark.parametrize("device,capability,triton,reason", [
    ("cpu", None, False, "cpu device"),
    ("cuda", (7, 5), True, "below the kernel's 8.0"),
    ("cuda", (9, 0), False, "Triton is not importable"),
])
def test_other_machines_take_pytorch_and_say_why(device, capability, triton, reason) -> None:
    plan = choose(device, capability, triton)
    assert not plan.triton
    assert all(reason in plan.path(op) for op in OPS)


def test_triton_path_needs_a_cuda_tensor() -> None:
    plan = choose("cuda", (9, 0), True)
    assert not plan.uses_triton("rms_norm", torch.zeros(2))


def test_unknown_op_lists_the_registered_ones() -> None:
    with pytest.raises(KeyError, match="registered ops are: dba_attention, glu, kv_decode, layer_norm, linear_cross_entropy, rms_norm, rope"):
        lookup("rmsnorm")


def test_start_up_lines_and_dry_run_column_show_each_kernel_category() -> None:
    lines = "\n".join(detect().describe())
    for category in ("norms (RMSNorm/LayerNorm)", "MLP / GLU", "RoPE", "linear + cross-entropy", "DBA attention"):
        assert category in detect().paths()
        assert category in lines


def _forward_backward(layer: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    x = x.clone().requires_grad_()
    y = layer(x)
    (y * torch.linspace(-1, 1, y.numel(), device=y.device).view_as(y)).sum().backward()
    grads = [x.grad] + [p.grad.clone() for p in layer.parameters() if p.grad is not None]
    layer.zero_grad(set_to_none=True)
    return y.detach(), grads


@pytest.mark.parametrize("make,op", [
    (lambda: RMSNormLayer(40), "rms_norm"), (lambda: LayerNormLayer(40), "layer_norm"),
    (lambda: SwiGLULayer(40, 56), "glu"), (lambda: GEGLULayer(40, 56), "glu"),
    (lambda: AttentionLayer(40, 4, 2, rope_scaling={"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8}), "rope"),
    (lambda: DecoupledAttention(40, 4, sem_dim=16, geo_dim=32, tie_qk=True), "rope"),
    (lambda: DecoupledAttention(40, 4, sem_dim=16, geo_dim=32, n_kv_heads=2, null_attn=True, gate=True),
     "dba_attention"),
], ids=["rms_norm", "layer_norm", "swiglu", "geglu", "attention_rope", "dba_tied_rope", "dba_gqa_null_gate"])
def test_layers_call_the_dispatch_and_match_the_pytorch_path(make, op, monkeypatch) -> None:
    torch.manual_seed(0)
    layer = make()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    layer, x = layer.to(DEVICE), torch.randn(2, 9, 40, device=DEVICE)
    monkeypatch.setattr(dispatch, "plan", lambda: choose("cpu", None, False))  # every op on PyTorch's path
    ref_y, ref_grads = _forward_backward(layer, x)
    everywhere = Everywhere("cuda", frozenset(OPS))
    monkeypatch.setattr(dispatch, "plan", lambda: everywhere)
    y, grads = _forward_backward(layer, x)
    assert op in everywhere.asked, f"the layer never asked the dispatch for {op}"
    torch.testing.assert_close(y, ref_y, rtol=1e-4, atol=1e-5)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_next_token_objective_fuses_head_and_loss_when_dispatched(monkeypatch) -> None:
    """With linear_cross_entropy dispatched, the objective never builds logits and gets the same loss and grads."""
    from caramba.engine.model.layers.linear import LinearLayer
    from caramba.engine.model.systems.transformer import TransformerModel
    from caramba.engine.model.topologies.stacked import StackedTopology
    from caramba.engine.train.objectives.next_token import NextTokenObjective

    torch.manual_seed(0)
    model = TransformerModel({"type": "token", "vocab_size": 300, "d_model": 24},
                             StackedTopology([RMSNormLayer(24), LinearLayer(24, 300)])).to(DEVICE)
    inputs = torch.randint(0, 300, (2, 11), device=DEVICE)
    targets = torch.randint(0, 300, (2, 11), device=DEVICE)
    targets[0, :3] = -100
    batch = {"inputs": inputs, "targets": targets}

    def run() -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad(set_to_none=True)
        result = NextTokenObjective()(model, batch)
        result.loss.backward()
        return result.loss.detach(), [p.grad.clone() for p in model.parameters()]

    monkeypatch.setattr(dispatch, "plan", lambda: choose("cpu", None, False))
    ref_loss, ref_grads = run()
    logits_made: list[int] = []
    hook = model.topology.layers[-1].proj.register_forward_hook(lambda *_: logits_made.append(1))
    monkeypatch.setattr(dispatch, "plan", lambda: Everywhere("cuda", frozenset(OPS)))
    loss, grads = run()
    hook.remove()
    assert not logits_made, "the fused path must not run the head's projection"
    torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=1e-6)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_no_kernel_autotunes() -> None:
    """apples_to_apples relies on it: every launch configuration is a function of the shape alone."""
    from pathlib import Path

    import caramba.kernels

    sources = list(Path(caramba.kernels.__file__).parent.rglob("*.py"))
    assert len(sources) > 5
    # "autotuning" in prose does not contain "autotune"; a triton.autotune decorator does
    offenders = [str(p) for p in sources if "autotune" in p.read_text()]
    assert not offenders, f"kernels must launch fixed configurations (no triton.autotune): {offenders}"


def test_compiled_regions_take_the_pytorch_path(monkeypatch) -> None:
    """Inside torch.compile only the ops in KERNELS_INSIDE_COMPILE take their kernel; eager code always does."""
    monkeypatch.setattr(dispatch, "plan", lambda: Everywhere("cuda", frozenset(OPS)))
    x = torch.zeros(3)

    def probe(t: torch.Tensor) -> torch.Tensor:
        return t + (1.0 if dispatch.uses_triton("rms_norm", t) else 2.0)

    assert probe(x).tolist() == [1.0, 1.0, 1.0]
    torch._dynamo.reset()
    assert torch.compile(probe, backend="eager")(x).tolist() == [2.0, 2.0, 2.0]
    monkeypatch.setattr(dispatch, "KERNELS_INSIDE_COMPILE", frozenset({"glu"}))
    torch._dynamo.reset()
    assert torch.compile(probe, backend="eager")(x).tolist() == [2.0, 2.0, 2.0]
    monkeypatch.setattr(dispatch, "KERNELS_INSIDE_COMPILE", frozenset({"rms_norm"}))
    torch._dynamo.reset()
    assert torch.compile(probe, backend="eager")(x).tolist() == [1.0, 1.0, 1.0]
    torch._dynamo.reset()
