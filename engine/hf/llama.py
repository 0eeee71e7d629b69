"""Llama (incl. GQA, tied/untied embeddings, rope_theta, linear/llama3 RoPE scaling) ↔ caramba.

The caramba equivalent is a TransformerModel: token embedder →
Nested(repeat L)[Residual[RMSNorm, AttentionLayer], Residual[RMSNorm, SwiGLULayer]] →
RMSNorm → LinearLayer head. Parameter names map one to one (no transposes).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from caramba.engine.hf.checkpoint import CheckpointError

BLOCK = "topology.layers.0.layers"


def rope_settings(cfg: dict[str, Any]) -> tuple[float, dict[str, Any] | None]:
    """(rope_theta, caramba rope_scaling) from either ``rope_parameters`` or ``rope_theta``/``rope_scaling``."""
    params = dict(cfg.get("rope_parameters") or cfg.get("rope_scaling") or {})
    theta = float(params.pop("rope_theta", cfg.get("rope_theta", 10000.0)))
    kind = params.pop("rope_type", params.pop("type", "default"))
    if kind == "default":
        return theta, None
    if kind == "linear":
        return theta, {"type": "linear", "factor": float(params["factor"])}
    if kind == "llama3":
        keys = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")
        return theta, {"type": "llama3", **{k: params[k] for k in keys}}
    raise CheckpointError(f"RoPE scaling {kind!r} is not supported (supported: default, linear, llama3)")


def model_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The TransformerModel config (a manifest dict) equivalent to a Llama config.json."""
    d, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    if cfg.get("head_dim") not in (None, d // heads):
        raise CheckpointError(f"head_dim={cfg['head_dim']} differs from hidden_size/num_attention_heads={d // heads}; not supported")
    if cfg.get("hidden_act", "silu") != "silu":
        raise CheckpointError(f"hidden_act {cfg['hidden_act']!r} is not supported (Llama uses silu)")
    kv = cfg.get("num_key_value_heads") or heads
    theta, scaling = rope_settings(cfg)
    eps = cfg.get("rms_norm_eps", 1e-6)
    attention = {"type": "AttentionLayer", "d_model": d, "n_heads": heads, "mode": "gqa" if kv != heads else "standard",
                 "rope_base": theta, "rope_scaling": scaling, "bias": bool(cfg.get("attention_bias", False))}
    if kv != heads:
        attention["n_kv_heads"] = kv
    norm = {"type": "RMSNormLayer", "d_model": d, "eps": eps}
    return {"type": "TransformerModel", "tie_embeddings": bool(cfg.get("tie_word_embeddings", False)),
            "embedder": {"type": "token", "vocab_size": cfg["vocab_size"], "d_model": d},
            "topology": {"type": "StackedTopology", "layers": [
                {"type": "NestedTopology", "repeat": cfg["num_hidden_layers"], "layers": [
                    {"type": "ResidualTopology", "layers": [norm, attention]},
                    {"type": "ResidualTopology", "layers": [norm, {"type": "SwiGLULayer", "d_model": d, "d_ff": cfg["intermediate_size"],
                                                                   "bias": bool(cfg.get("mlp_bias", False))}]}]},
                norm, {"type": "LinearLayer", "d_in": d, "d_out": cfg["vocab_size"]}]}}


def key_pairs(n_layers: int, bias: bool, mlp_bias: bool) -> list[tuple[str, str]]:
    """(Hugging Face name, caramba name) for every parameter."""
    pairs = [("model.embed_tokens.weight", "embedder.table.weight"), ("model.norm.weight", "topology.layers.1.weight"),
             ("lm_head.weight", "topology.layers.2.proj.weight")]
    for i in range(n_layers):
        hf, att, mlp = f"model.layers.{i}", f"{BLOCK}.{2 * i}.layers", f"{BLOCK}.{2 * i + 1}.layers"
        pairs += [(f"{hf}.input_layernorm.weight", f"{att}.0.weight"), (f"{hf}.post_attention_layernorm.weight", f"{mlp}.0.weight")]
        for p in ("q", "k", "v", "o"):
            pairs += [(f"{hf}.self_attn.{p}_proj.{w}", f"{att}.1.{p}_proj.{w}") for w in ("weight", "bias") if w == "weight" or bias]
        for ours, theirs in (("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj")):
            pairs += [(f"{hf}.mlp.{theirs}.{w}", f"{mlp}.1.{ours}.{w}") for w in ("weight", "bias") if w == "weight" or mlp_bias]
    return pairs


def _pairs(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    return key_pairs(cfg["num_hidden_layers"], bool(cfg.get("attention_bias")), bool(cfg.get("mlp_bias")))


def to_caramba(state: dict[str, Tensor], cfg: dict[str, Any]) -> dict[str, Tensor]:
    """Rename a Llama state dict to caramba names (a tied head reuses the embedding)."""
    out = {}
    for theirs, ours in _pairs(cfg):
        if theirs == "lm_head.weight" and theirs not in state:
            if not cfg.get("tie_word_embeddings", False):
                raise CheckpointError("the checkpoint has no lm_head.weight but tie_word_embeddings is false")
            theirs = "model.embed_tokens.weight"
        out[ours] = state[theirs]
    return out


def to_hf(state: dict[str, Tensor], cfg: dict[str, Any]) -> dict[str, Tensor]:
    """Rename caramba parameters to Llama names (the tied head is omitted)."""
    return {theirs: state[ours] for theirs, ours in _pairs(cfg) if not (theirs == "lm_head.weight" and cfg.get("tie_word_embeddings"))}


def hf_config(model: dict[str, Any]) -> dict[str, Any]:
    """A Llama config.json for a caramba TransformerModel config of the shape ``model_config`` builds."""
    nested = model["topology"]["layers"][0]
    attention, mlp = nested["layers"][0]["layers"][1], nested["layers"][1]["layers"][1]
    norm = nested["layers"][0]["layers"][0]
    rope: dict[str, Any] = {"rope_type": "default", "rope_theta": attention.get("rope_base", 10000.0)}
    scaling = attention.get("rope_scaling")
    if scaling:
        rope.update({k: v for k, v in scaling.items() if k != "type"}, rope_type=scaling["type"])
        if scaling["type"] == "linear":
            rope = {"rope_type": "linear", "factor": scaling["factor"], "rope_theta": rope["rope_theta"]}
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": model["embedder"]["d_model"],
            "vocab_size": model["embedder"]["vocab_size"], "num_hidden_layers": nested["repeat"],
            "num_attention_heads": attention["n_heads"], "num_key_value_heads": attention.get("n_kv_heads") or attention["n_heads"],
            "intermediate_size": mlp["d_ff"], "rms_norm_eps": norm.get("eps", 1e-6), "hidden_act": "silu",
            "attention_bias": bool(attention.get("bias")), "mlp_bias": bool(mlp.get("bias")),
            "tie_word_embeddings": bool(model.get("tie_embeddings")), "rope_theta": rope["rope_theta"],
            "rope_scaling": None if rope["rope_type"] == "default" else {k: v for k, v in rope.items() if k != "rope_theta"},
            "max_position_embeddings": 2048, "torch_dtype": "float32"}
