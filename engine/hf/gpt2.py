"""GPT-2 ↔ caramba.

The caramba equivalent is a TransformerModel: token embedder with learned positions →
Nested(repeat L)[Residual[LayerNorm, AttentionLayer(standard, no RoPE, biases)],
Residual[LayerNorm, MLPLayer(gelu_tanh)]] → LayerNorm → tied LinearLayer head.
GPT-2 stores its projections as ``Conv1D`` with weights (in, out): they are transposed,
and the fused ``c_attn`` (d, 3d) is split into q, k and v.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from caramba.engine.hf.checkpoint import CheckpointError

BLOCK = "topology.layers.0.layers"
ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu", "relu": "relu", "silu": "silu"}


def model_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The TransformerModel config equivalent to a GPT-2 config.json."""
    d, act = cfg["n_embd"], cfg.get("activation_function", "gelu_new")
    if act not in ACTIVATIONS:
        raise CheckpointError(f"GPT-2 activation {act!r} is not supported (supported: {', '.join(ACTIVATIONS)})")
    for flag, ok in (("scale_attn_by_inverse_layer_idx", False), ("reorder_and_upcast_attn", False), ("scale_attn_weights", True)):
        if cfg.get(flag, ok) != ok:
            raise CheckpointError(f"GPT-2 option {flag}={cfg[flag]} is not supported")
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    norm = {"type": "LayerNormLayer", "d_model": d, "eps": eps}
    return {"type": "TransformerModel", "tie_embeddings": bool(cfg.get("tie_word_embeddings", True)),
            "embedder": {"type": "token", "vocab_size": cfg["vocab_size"], "d_model": d, "positions": "learned",
                         "max_seq_len": cfg["n_positions"]},
            "topology": {"type": "StackedTopology", "layers": [
                {"type": "NestedTopology", "repeat": cfg["n_layer"], "layers": [
                    {"type": "ResidualTopology", "layers": [norm, {"type": "AttentionLayer", "d_model": d, "n_heads": cfg["n_head"],
                                                                   "rope": False, "bias": True}]},
                    {"type": "ResidualTopology", "layers": [norm, {"type": "MLPLayer", "d_model": d, "d_ff": cfg.get("n_inner") or 4 * d,
                                                                   "activation": ACTIVATIONS[act], "bias": True}]}]},
                norm, {"type": "LinearLayer", "d_in": d, "d_out": cfg["vocab_size"]}]}}


def _strip(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Drop the ``transformer.`` prefix and non-parameter buffers (attn.bias masks)."""
    out = {}
    for key, value in state.items():
        key = key.removeprefix("transformer.")
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            continue
        out[key] = value
    return out


def to_caramba(state: dict[str, Tensor], cfg: dict[str, Any]) -> dict[str, Tensor]:
    """Convert a GPT-2 state dict (Conv1D transposed, c_attn split) to caramba names."""
    s, d = _strip(state), cfg["n_embd"]
    out = {"embedder.table.weight": s["wte.weight"], "embedder.positions.table": s["wpe.weight"],
           "topology.layers.1.weight": s["ln_f.weight"], "topology.layers.1.bias": s["ln_f.bias"],
           "topology.layers.2.proj.weight": s.get("lm_head.weight", s["wte.weight"])}
    for i in range(cfg["n_layer"]):
        h, att, mlp = f"h.{i}", f"{BLOCK}.{2 * i}.layers", f"{BLOCK}.{2 * i + 1}.layers"
        for ours, theirs in ((f"{att}.0", f"{h}.ln_1"), (f"{mlp}.0", f"{h}.ln_2")):
            out[f"{ours}.weight"], out[f"{ours}.bias"] = s[f"{theirs}.weight"], s[f"{theirs}.bias"]
        for j, p in enumerate(("q", "k", "v")):
            out[f"{att}.1.{p}_proj.weight"] = s[f"{h}.attn.c_attn.weight"][:, j * d:(j + 1) * d].T
            out[f"{att}.1.{p}_proj.bias"] = s[f"{h}.attn.c_attn.bias"][j * d:(j + 1) * d]
        for ours, theirs in ((f"{att}.1.o_proj", f"{h}.attn.c_proj"), (f"{mlp}.1.up", f"{h}.mlp.c_fc"), (f"{mlp}.1.down", f"{h}.mlp.c_proj")):
            out[f"{ours}.weight"], out[f"{ours}.bias"] = s[f"{theirs}.weight"].T, s[f"{theirs}.bias"]
    return {k: v.contiguous() for k, v in out.items()}


def to_hf(state: dict[str, Tensor], cfg: dict[str, Any]) -> dict[str, Tensor]:
    """Convert caramba parameters back to GPT-2 names (``transformer.`` prefix, Conv1D layout)."""
    out = {"wte.weight": state["embedder.table.weight"], "wpe.weight": state["embedder.positions.table"],
           "ln_f.weight": state["topology.layers.1.weight"], "ln_f.bias": state["topology.layers.1.bias"]}
    for i in range(cfg["n_layer"]):
        h, att, mlp = f"h.{i}", f"{BLOCK}.{2 * i}.layers", f"{BLOCK}.{2 * i + 1}.layers"
        for ours, theirs in ((f"{att}.0", f"{h}.ln_1"), (f"{mlp}.0", f"{h}.ln_2")):
            out[f"{theirs}.weight"], out[f"{theirs}.bias"] = state[f"{ours}.weight"], state[f"{ours}.bias"]
        out[f"{h}.attn.c_attn.weight"] = torch.cat([state[f"{att}.1.{p}_proj.weight"].T for p in "qkv"], dim=1)
        out[f"{h}.attn.c_attn.bias"] = torch.cat([state[f"{att}.1.{p}_proj.bias"] for p in "qkv"])
        for ours, theirs in ((f"{att}.1.o_proj", f"{h}.attn.c_proj"), (f"{mlp}.1.up", f"{h}.mlp.c_fc"), (f"{mlp}.1.down", f"{h}.mlp.c_proj")):
            out[f"{theirs}.weight"], out[f"{theirs}.bias"] = state[f"{ours}.weight"].T, state[f"{ours}.bias"]
    hf = {f"transformer.{k}": v.contiguous() for k, v in out.items()}
    if not cfg.get("tie_word_embeddings", True):
        hf["lm_head.weight"] = state["topology.layers.2.proj.weight"].contiguous()
    return hf


def hf_config(model: dict[str, Any]) -> dict[str, Any]:
    """A GPT-2 config.json for a caramba TransformerModel config of the shape ``model_config`` builds."""
    nested = model["topology"]["layers"][0]
    attention, mlp = nested["layers"][0]["layers"][1], nested["layers"][1]["layers"][1]
    act = {"gelu_tanh": "gelu_new", "gelu": "gelu", "relu": "relu", "silu": "silu"}[mlp.get("activation", "gelu")]
    return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": model["embedder"]["d_model"],
            "vocab_size": model["embedder"]["vocab_size"], "n_positions": model["embedder"]["max_seq_len"],
            "n_layer": nested["repeat"], "n_head": attention["n_heads"], "n_inner": mlp["d_ff"], "activation_function": act,
            "layer_norm_epsilon": nested["layers"][0]["layers"][0].get("eps", 1e-5),
            "tie_word_embeddings": bool(model.get("tie_embeddings")),
            "torch_dtype": "float32"}
