"""Topologies: shapes, gradients, equivalences, and the validator's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from caramba.engine.model.context import ForwardContext
from tests.model.helpers import assert_close, assert_grads_reach, built, issues

B, T, D = 2, 7, 8
LIN = {"type": "LinearLayer", "d_in": D, "d_out": D, "bias": True}


def x64() -> torch.Tensor:
    return torch.randn(B, T, D, dtype=torch.float64)


def test_stacked_residual_nested() -> None:
    x = x64()
    stacked = built({"type": "StackedTopology", "layers": [LIN, {"type": "LinearLayer", "d_in": D, "d_out": 3}]})
    assert_close(stacked(x), stacked.layers[1](stacked.layers[0](x)), what="stacked")
    residual = built({"type": "ResidualTopology", "layers": [{"type": "RMSNormLayer", "d_model": D}, LIN]})
    assert_close(residual(x), x + residual.layers[1](residual.layers[0](x)), what="residual")
    nested = built({"type": "NestedTopology", "repeat": 3, "layers": [LIN]})
    assert len(nested.layers) == 3 and nested.layers[0].proj.weight is not nested.layers[1].proj.weight
    for module in (stacked, residual, nested):
        assert_grads_reach(module, module(x).square().sum())
    assert any("preserve the width" in m for m in issues({"type": "ResidualTopology", "layers": [{"type": "LinearLayer", "d_in": D, "d_out": 3}]}, D))
    assert any("repeated block" in m for m in issues({"type": "NestedTopology", "repeat": 2, "layers": [{"type": "LinearLayer", "d_in": D, "d_out": 3}]}, D))


@pytest.mark.parametrize("combine", ["sum", "mean", "concat"])
def test_parallel(combine: str) -> None:
    layers = [LIN, {"type": "SwiGLULayer", "d_model": D, "d_ff": 4}]
    module, x = built({"type": "ParallelTopology", "combine": combine, "layers": layers}), x64()
    a, b = module.layers[0](x), module.layers[1](x)
    want = {"sum": a + b, "mean": (a + b) / 2, "concat": torch.cat([a, b], -1)}[combine]
    assert_close(module(x), want, what=combine)
    assert_grads_reach(module, module(x).square().sum())
    widths = issues({"type": "ParallelTopology", "combine": combine, "layers": [LIN, {"type": "LinearLayer", "d_in": D, "d_out": 3}]}, D)
    assert bool(widths) == (combine != "concat")


def test_branching_projects_the_concat() -> None:
    cfg = {"type": "BranchingTopology", "d_out": 5, "layers": [LIN, {"type": "LinearLayer", "d_in": D, "d_out": 3}]}
    module, x = built(cfg), x64()
    assert_close(module(x), module.proj(torch.cat([module.layers[0](x), module.layers[1](x)], -1)), what="branching")
    assert module(x).shape == (B, T, 5) and issues(cfg, D) == []
    assert_grads_reach(module, module(x).square().sum())


def test_cyclic_shares_weights() -> None:
    module, x = built({"type": "CyclicTopology", "n_cycles": 3, "layers": [LIN]}), x64()
    f = module.layers[0]
    assert_close(module(x), f(f(f(x))), what="cyclic")
    assert sum(p.numel() for p in module.parameters()) == D * D + D
    assert_grads_reach(module, module(x).square().sum())


def test_recurrent_chunks_equal_one_pass() -> None:
    block = [{"type": "ResidualTopology", "layers": [{"type": "AttentionLayer", "d_model": D, "n_heads": 2}]},
             {"type": "ResidualTopology", "layers": [{"type": "SSMLayer", "d_model": D, "d_state": 4}]}]
    chunked = built({"type": "RecurrentTopology", "chunk_size": 3, "layers": block})
    whole = built({"type": "StackedTopology", "layers": block})
    whole.load_state_dict(chunked.state_dict())
    x = x64()
    assert_close(chunked(x), whole(x), what="recurrent")
    assert_grads_reach(chunked, chunked(x, ForwardContext()).square().sum())


GRAPH = {"type": "GraphTopology", "inputs": ["a", "b"], "nodes": [
    {"id": "sum", "in": ["a", "b"], "out": "s", "op": "Bilinear", "config": {"in1_features": D, "in2_features": D, "out_features": D}},
    {"id": "proj", "in": "h", "out": "y", "type": "LinearLayer", "d_in": D, "d_out": 4},
    {"id": "act", "in": "s", "out": "h", "op": "GELU"},
]}


def test_graph_runs_in_dependency_order() -> None:
    module = built(GRAPH)
    a, b = x64(), x64()
    nodes = module.nodes
    assert_close(module({"a": a, "b": b}), nodes["proj"](torch.nn.functional.gelu(nodes["sum"](a, b))), what="graph")
    assert_grads_reach(module, module({"a": a, "b": b}).square().sum())
    assert issues(GRAPH, D) == []


def test_graph_validation() -> None:
    cyclic = {"type": "GraphTopology", "nodes": [{"id": "a", "in": "y", "out": "h", "op": "ReLU"}, {"id": "b", "in": "h", "out": "y", "op": "ReLU"}]}
    assert any("cycle" in m for m in issues(cyclic, D))
    unknown = {"type": "GraphTopology", "nodes": [{"id": "a", "in": "nope", "out": "h", "op": "Relu"}]}
    found = issues(unknown, D)
    assert any("reads 'nope'" in m for m in found) and any("unknown op 'Relu'" in m for m in found)
    dims = {"type": "GraphTopology", "nodes": [{"id": "a", "in": "inputs", "out": "h", "type": "LinearLayer", "d_in": 3, "d_out": 2}]}
    assert any("x.layers[0].d_in" in m for m in issues(dims, D))


def test_python_ops_need_the_allowlist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = {"type": "GraphTopology", "nodes": [{"id": "a", "in": "inputs", "out": "y", "op": "python:torch.nn:Tanh"}]}
    monkeypatch.chdir(tmp_path)
    found = issues(cfg, D)
    assert any("not in the workspace python_allowlist" in m and "x.layers[0].op" in m for m in found)
    (tmp_path / "caramba.yml").write_text("python_allowlist: [torch.nn]\n")
    assert issues(cfg, D) == []
    x = x64()
    assert_close(built(cfg)(x), torch.tanh(x), what="python op")
