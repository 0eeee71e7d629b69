"""Initialisation schemes: a language model starts at loss ≈ ln V, whatever its head.

Uniform random tokens carry no information, so a well-initialised model predicts a
near-uniform distribution and its cross-entropy is ln V (+ logit variance / 2). The
PyTorch-default embedding (N(0, 1)) tied to the head gives logits of standard deviation
≈ √d_model instead, which is what this test guards against.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from caramba.engine.compiler import compile_manifest
from caramba.engine.model.build import build_system
from caramba.engine.model.init import residual_outputs
from tests.conftest import PRESETS

WIDE_VOCAB, D = 50257, 96


def gpt(tied: bool, init: dict | None = None, vocab: int = WIDE_VOCAB, layers: int = 2) -> str:
    """A GPT-2-shaped manifest (learned positions, LayerNorm, GELU MLP, biases)."""
    norm = {"type": "LayerNormLayer", "d_model": D}
    model = {"type": "TransformerModel", "tie_embeddings": tied,
             "embedder": {"type": "token", "vocab_size": vocab, "d_model": D, "positions": "learned", "max_seq_len": 64},
             "topology": {"type": "StackedTopology", "layers": [
                 {"type": "NestedTopology", "repeat": layers, "layers": [
                     {"type": "ResidualTopology", "layers": [norm, {"type": "AttentionLayer", "d_model": D, "n_heads": 4, "rope": False, "bias": True}]},
                     {"type": "ResidualTopology", "layers": [norm, {"type": "MLPLayer", "d_model": D, "d_ff": 4 * D, "activation": "gelu_tanh"}]}]},
                 norm, {"type": "LinearLayer", "d_in": D, "d_out": vocab}]}}
    system = {"model": model, **({"init": init} if init is not None else {})}
    return yaml.safe_dump({"version": 2, "name": "init", "targets": [{
        "type": "experiment", "name": "t", "task": "task.language_modeling",
        "data": {"ref": "dataset.copying", "config": {"vocab_size": vocab, "block_size": 32, "num_examples": 64, "data_seed": 0}},
        "system": {"ref": "system.language_model", "config": system},
        "objective": "objective.next_token_ce", "trainer": "trainer.standard",
        "runs": [{"id": "r", "steps": 1, "train": {"batch_size": 2, "block_size": 32, "lr": 0.001, "device": "cpu"}}]}]})


def initial_loss(target, batch: int = 4, length: int = 32) -> tuple[float, int]:  # noqa: ANN001
    """Cross-entropy of a freshly built system on uniform random tokens, and its vocabulary size."""
    torch.manual_seed(0)
    model = build_system(target.system.ref, target.system.config).eval()
    vocab = model.vocab_size
    ids = torch.randint(0, vocab, (batch, length + 1), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(ids[:, :-1])
    return torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), ids[:, 1:].reshape(-1)).item(), vocab


@pytest.mark.parametrize("tied", [True, False], ids=["tied", "untied"])
def test_gpt_starts_at_ln_vocab(tied: bool) -> None:
    target = compile_manifest(gpt(tied)).manifest.targets[0]
    loss, vocab = initial_loss(target)
    assert abs(loss - math.log(vocab)) < 0.5, f"initial loss {loss:.3f} vs ln V = {math.log(vocab):.3f}"


def test_torch_defaults_are_what_the_gpt2_default_fixes() -> None:
    """The same tied model under PyTorch's defaults starts far above ln V (the bug of issue #12)."""
    target = compile_manifest(gpt(True, {"scheme": "torch"})).manifest.targets[0]
    loss, vocab = initial_loss(target)
    assert loss > math.log(vocab) + 5, loss


LM_PRESETS = sorted(p for p in PRESETS.glob("*.yml")
                    if any(t.get("system", {}).get("ref") == "system.language_model"
                           for t in yaml.safe_load(p.read_text())["targets"]))


def test_every_language_model_preset_is_checked() -> None:
    assert len(LM_PRESETS) >= 5, LM_PRESETS


@pytest.mark.parametrize("path", LM_PRESETS, ids=lambda p: p.stem)
def test_every_language_model_preset_starts_at_ln_vocab(path: Path) -> None:
    for target in compile_manifest(path).manifest.targets:
        if getattr(target.system, "ref", None) != "system.language_model":
            continue
        loss, vocab = initial_loss(target, batch=2, length=16)
        assert abs(loss - math.log(vocab)) < 0.5, f"{path.stem}/{target.name}: {loss:.3f} vs ln V = {math.log(vocab):.3f}"


def test_gpt2_scheme_draws_the_recipe() -> None:
    """Weights N(0, std), residual outputs N(0, std/√(2L)), biases 0, norms 1; llama skips the scaling."""
    layers, std = 3, 0.05
    for scheme, scaled in (("gpt2", True), ("llama", False)):
        target = compile_manifest(gpt(False, {"scheme": scheme, "std": std}, vocab=2048, layers=layers)).manifest.targets[0]
        torch.manual_seed(0)
        model = build_system(target.system.ref, target.system.config)
        residual, branches = residual_outputs(model)
        assert branches == 2 * layers and len(residual) == 2 * layers
        want = std / math.sqrt(2 * layers) if scaled else std
        for p in residual:
            assert p.std().item() == pytest.approx(want, rel=0.1)
        ids = {id(p) for p in residual}
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                assert p.abs().max().item() == 0, name
            elif p.ndim == 1:
                assert torch.all(p == 1), name  # norm gains
            elif id(p) not in ids:
                assert p.std().item() == pytest.approx(std, rel=0.1), name


def test_weight_decay_spares_biases_norms_and_embeddings_unless_asked() -> None:
    from caramba.engine.manifest.train import TrainConfig
    from caramba.engine.train.optim import param_groups

    target = compile_manifest(gpt(True, vocab=512)).manifest.targets[0]
    model = build_system(target.system.ref, target.system.config)
    names = {id(p): n for n, p in model.named_parameters()}
    train = TrainConfig(batch_size=1, block_size=8, lr=1e-3, weight_decay=0.1)
    decayed = {names[id(p)] for g in param_groups(model, train) if g["weight_decay"] > 0 for p in g["params"]}
    assert decayed and all(n.endswith("weight") and "norm" not in n for n in decayed), decayed
    assert "embedder.table.weight" not in decayed and "embedder.positions.table" not in decayed  # tied head too
    assert not any(names[id(p)].endswith(".0.weight") for g in param_groups(model, train) if g["weight_decay"] > 0 for p in g["params"])
    asked = TrainConfig(batch_size=1, block_size=8, lr=1e-3, weight_decay=0.1,
                        param_groups=[{"pattern": r"^embedder\.", "weight_decay": 0.01}])
    groups = param_groups(model, asked)
    embedder = [g for g in groups if any(names[id(p)].startswith("embedder.") for p in g["params"])]
    assert [g["weight_decay"] for g in embedder] == [0.01]


def test_layers_keep_the_initialisation_they_define() -> None:
    """A zero-initialised DBA gate and the diffusion head's zero projection survive every scheme."""
    from caramba.engine.model.layers.attention_decoupled import DecoupledAttention
    from caramba.engine.model.layers.mlp import DenoisingHeadLayer
    from caramba.engine.model.init import initialise

    layer = torch.nn.ModuleList([DecoupledAttention(32, 4, 16, 16, gate=True), DenoisingHeadLayer(32, 8)])
    initialise(layer, "gpt2", 0.02)
    assert layer[0].gate_proj.weight.abs().max() == 0 and layer[1].proj.weight.abs().max() == 0
    assert layer[0].q_sem.weight.std().item() == pytest.approx(0.02, rel=0.2)
