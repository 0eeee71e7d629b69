"""The kernels as ``torch.library`` custom ops: inside ``torch.compile`` they are graph nodes, not breaks.

A small pre-norm transformer built from caramba's layers (RMSNorm, RoPE attention, SwiGLU,
LayerNorm, a head fused with the loss) is trained one step by the ``next_token`` objective
with every kernel dispatched inside the compiled region. Dynamo must see one graph
(``fullgraph=True``, ``torch._dynamo.explain``), and the compiled step must give the loss
and every parameter gradient of the same model run eagerly on PyTorch's path. The
``aot_eager`` backend traces forward and backward through AOTAutograd with fake tensors
(so the ops' fake implementations and autograd rules are exercised) and then runs the
real kernels — in Triton's interpreter on the CPU.
"""

from __future__ import annotations

import pytest
import torch

from caramba.engine.model.layers.attention import AttentionLayer
from caramba.engine.model.layers.glu import SwiGLULayer
from caramba.engine.model.layers.linear import LinearLayer
from caramba.engine.model.layers.norm import LayerNormLayer, RMSNormLayer
from caramba.engine.model.systems.transformer import TransformerModel
from caramba.engine.model.topologies.residual import ResidualTopology
from caramba.engine.model.topologies.stacked import StackedTopology
from caramba.engine.train.objectives.next_token import NextTokenObjective
from caramba.kernels import dispatch
from caramba.kernels.dispatch import choose
from caramba.kernels.registry import OPS
from tests.kernels.conftest import DEVICE, Everywhere

TRAINING_OPS = frozenset({"rms_norm", "layer_norm", "glu", "rope", "linear_cross_entropy"})
D, VOCAB = 32, 97


def _model() -> TransformerModel:
    torch.manual_seed(0)
    topology = StackedTopology([
        ResidualTopology([RMSNormLayer(D), AttentionLayer(D, 4, 2)]),
        ResidualTopology([LayerNormLayer(D), SwiGLULayer(D, 40)]),
        RMSNormLayer(D), LinearLayer(D, VOCAB)])
    model = TransformerModel({"type": "token", "vocab_size": VOCAB, "d_model": D}, topology).to(DEVICE)
    with torch.no_grad():  # norms away from their identity init, so their weight gradients matter
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    inputs = torch.randint(0, VOCAB, (2, 13), generator=g).to(DEVICE)
    targets = torch.randint(0, VOCAB, (2, 13), generator=g).to(DEVICE)
    targets[1, :4] = -100
    return {"inputs": inputs, "targets": targets}


def _step(fn, model: TransformerModel, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss = fn(model, batch)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


def _loss(model: TransformerModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return NextTokenObjective()(model, batch).loss


def test_compiled_step_with_every_kernel_has_no_graph_break_and_matches_eager(monkeypatch) -> None:
    model, batch = _model(), _batch()
    monkeypatch.setattr(dispatch, "plan", lambda: choose("cpu", None, False))  # eager reference: PyTorch's path
    ref_loss, ref_grads = _step(_loss, model, batch)

    everywhere = Everywhere("cuda", frozenset(OPS))
    monkeypatch.setattr(dispatch, "plan", lambda: everywhere)
    monkeypatch.setattr(dispatch, "KERNELS_INSIDE_COMPILE", TRAINING_OPS)
    torch._dynamo.reset()
    explained = torch._dynamo.explain(_loss)(model, batch)
    assert explained.graph_break_count == 0, f"graph breaks: {[str(b.reason) for b in explained.break_reasons]}"
    assert explained.graph_count == 1
    graph = "\n".join(str(node.target) for g in explained.graphs for node in g.graph.nodes)
    for op in TRAINING_OPS:  # every kernel is a node of the one graph, not PyTorch's path
        assert f"caramba.{op}" in graph, f"{op} is not a node of the compiled graph"

    torch._dynamo.reset()
    compiled = torch.compile(_loss, backend="aot_eager", fullgraph=True)
    loss, grads = _step(compiled, model, batch)
    torch._dynamo.reset()
    assert set(everywhere.asked) >= TRAINING_OPS
    torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=1e-6)
    for (name, _), got, want in zip(model.named_parameters(), grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5, msg=lambda m, n=name: f"grad of {n}: {m}")


@pytest.mark.parametrize("op", sorted(TRAINING_OPS))
def test_custom_op_registrations_pass_opcheck(op, generator) -> None:
    """``torch.library.opcheck``: schema, fake implementation and autograd rule agree with the real kernel."""
    from tests.kernels.conftest import randn

    def r(*shape: int) -> torch.Tensor:
        return randn(generator, *shape, dtype=torch.float32).requires_grad_()

    if op == "rms_norm":
        import caramba.kernels.rms_norm.kernel  # noqa: F401  (registers the op)
        cases = [(r(3, 5, 24), r(24), r(3, 5, 24), 1e-6), (r(4, 24), r(24), None, 1e-6)]
    elif op == "layer_norm":
        import caramba.kernels.layer_norm.kernel  # noqa: F401
        cases = [(r(3, 5, 24), r(24), r(24), r(3, 5, 24), 1e-5), (r(4, 24), r(24), None, None, 1e-5)]
    elif op == "glu":
        import caramba.kernels.glu.kernel  # noqa: F401
        cases = [(r(3, 37), r(3, 37), "silu"), (r(3, 37), r(3, 37), "gelu")]
    elif op == "rope":
        from caramba.kernels.rope import tables
        cos, sin = tables(torch.tensor([1.0, 0.1, 0.01]), 2, 7, torch.device(DEVICE))
        import caramba.kernels.rope.kernel  # noqa: F401
        cases = [(r(2, 7, 3, 6).transpose(1, 2), cos, sin, False)]
    else:
        import caramba.kernels.linear_cross_entropy.kernel  # noqa: F401
        targets = torch.randint(0, 50, (9,), generator=generator).to(DEVICE)
        cases = [(r(9, 12), r(50, 12), targets, -100, 0.1, 1e-3, 4)]
    for args in cases:
        torch.library.opcheck(getattr(torch.ops.caramba, op).default, args)
