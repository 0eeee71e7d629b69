"""Surgery: a Hugging Face Llama (GQA) teacher → a DBA (decoupled attention) student.

The student is the teacher's caramba ``TransformerModel`` with every ``AttentionLayer``
switched to ``mode: decoupled`` (same heads and key/value heads, ``v_dim`` = ``d_model``
unless asked narrower, ``rope_base`` chosen so the geometric path keeps the teacher's highest RoPE frequencies;
see ``engine/upcycle/factor.py`` for the factorisation and the RoPE decision). Weights:

* shared with the teacher and copied bit for bit: embeddings, every norm, the MLPs, the
  final norm and the head, and each layer's ``v_proj`` / ``o_proj`` (DBA's value path with
  ``v_dim = d_model`` has the teacher's head layout: query head h reads key/value head
  h // (H / H_kv) in both, so V and O need no reordering); a narrower ``v_dim`` factorises
  them instead (``values.py``, the same GQA-aware truncated SVD of W_O,h·W_V,g);
* ``q_sem``/``k_sem``/``q_geo``/``k_geo`` from :func:`factor_attention`;
* the optional output gate at identity (W_g = 0, b = 0, so 2·σ(0) = 1).

``null_attn`` and ``tie_qk`` are refused (a null key changes every attention row; Llama
keys are not its queries), as are attention biases (a bias makes the score affine, not
bilinear, in x). The per-layer report is computed before any training.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from caramba.engine.hf import build_model, load_pretrained, model_config_of
from caramba.engine.hf.checkpoint import CheckpointError
from caramba.engine.hf.llama import BLOCK
from caramba.engine.model.layers.rope import inverse_frequencies
from caramba.engine.upcycle.factor import FactoredAttention, factor_attention
from caramba.engine.upcycle.values import factor_values


class SurgeryError(CheckpointError):
    """A teacher or a DBA shape the surgery cannot map; the message says what to change."""


@dataclass(frozen=True)
class LayerReport:
    """What the initialisation keeps of one layer's attention logits (before training)."""

    layer: int
    kept: float
    semantic_kept: float
    geometric_energy: float
    semantic_energy: float
    semantic_rank: int
    geo_pairs: int
    dropped_frequency: float
    value_kept: float

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready fields."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Surgery:
    """The student (eval mode), its manifest model config, the per-layer report, and the
    student's KV-cache size per token as a fraction of the teacher's (``kv_ratio``)."""

    student: nn.Module
    config: dict[str, Any]
    report: list[LayerReport]
    kv_ratio: float


def student_config(teacher: dict[str, Any], sem_dim: int, geo_dim: int, gate: bool = False,
                   v_dim: int | None = None) -> dict[str, Any]:
    """The DBA student's TransformerModel config for a Llama teacher's config."""
    config = copy.deepcopy(teacher)
    attention = config["topology"]["layers"][0]["layers"][0]["layers"][1]
    heads, d = attention["n_heads"], attention["d_model"]
    hd = d // heads
    if attention.get("bias"):
        raise SurgeryError("the teacher's attention has biases; DBA surgery maps bilinear scores only (attention_bias: false)")
    if geo_dim % (2 * heads) or not 0 < geo_dim // heads <= hd:
        raise SurgeryError(f"geo_dim={geo_dim}: needs an even per-head width in 2..{hd} (a multiple of {2 * heads} up to {d})")
    if sem_dim % heads or sem_dim < heads:
        raise SurgeryError(f"sem_dim={sem_dim}: needs a positive multiple of n_heads={heads}")
    if v_dim is not None and (v_dim % heads or not heads <= v_dim <= d):
        raise SurgeryError(f"v_dim={v_dim}: needs a multiple of n_heads={heads} between {heads} and d_model={d}")
    geo_head = geo_dim // heads
    attention.update(mode="decoupled", sem_dim=sem_dim, geo_dim=geo_dim, v_dim=v_dim or d, gate=gate,
                     rope_base=float(attention.get("rope_base", 10000.0)) ** (geo_head / hd))
    if attention.get("n_kv_heads") is None:
        attention["n_kv_heads"] = heads
    return config


def surgery(teacher: str | Path, sem_dim: int, geo_dim: int, gate: bool = False, v_dim: int | None = None) -> Surgery:
    """Build the DBA student of a Llama checkpoint (folder or ``hf://org/name``) and report.

    ``sem_dim`` / ``geo_dim`` are the student's semantic / geometric widths over all heads;
    the semantic rank per head is ``sem_dim / n_heads`` (full rank from hd − geo_dim/n_heads);
    ``v_dim`` (default ``d_model``: V and O copied) narrows the value path by factorisation.
    """
    teacher_config = model_config_of(teacher)
    if teacher_config["embedder"].get("positions") == "learned":
        raise SurgeryError("DBA surgery needs a RoPE (Llama) teacher; GPT-2's learned positions have no geometric path")
    return surgery_from(teacher_config, load_pretrained(teacher).state_dict(), sem_dim, geo_dim, gate, v_dim)


def surgery_from(teacher_config: dict[str, Any], source: dict[str, Tensor], sem_dim: int, geo_dim: int, gate: bool = False,
                 v_dim: int | None = None) -> Surgery:
    """:func:`surgery` of a teacher given as its TransformerModel config and caramba state dict
    (a run's checkpoint: ``trainer.upcycle`` with ``teacher: {run: …}``)."""
    config = student_config(teacher_config, sem_dim, geo_dim, gate, v_dim)
    student = build_model(config)
    attention = config["topology"]["layers"][0]["layers"][0]["layers"][1]
    heads, kv, hd = attention["n_heads"], attention["n_kv_heads"], attention["d_model"] // attention["n_heads"]
    geo_head, sem_head, v_head = geo_dim // heads, sem_dim // heads, attention["v_dim"] // heads
    dropped = _dropped_frequency(teacher_config, hd, geo_head)
    state = {name: value for name, value in source.items() if ".q_proj." not in name and ".k_proj." not in name}
    report = []
    for i in range(config["topology"]["layers"][0]["repeat"]):
        prefix = f"{BLOCK}.{2 * i}.layers.1"
        factored = factor_attention(source[f"{prefix}.q_proj.weight"], source[f"{prefix}.k_proj.weight"], heads, kv, geo_head, sem_head)
        state.update(_attention_state(prefix, factored, student.state_dict(), gate))
        value_kept = 1.0
        if v_head < hd:
            values = factor_values(source[f"{prefix}.v_proj.weight"], source[f"{prefix}.o_proj.weight"], heads, kv, v_head)
            state.update({f"{prefix}.v_proj.weight": values.v_proj, f"{prefix}.o_proj.weight": values.o_proj})
            value_kept = _ratio(values.kept, values.total)
        report.append(LayerReport(layer=i, kept=factored.kept, semantic_kept=_ratio(factored.sem_kept, factored.sem_total),
                                  geometric_energy=factored.geo_energy, semantic_energy=factored.sem_total,
                                  semantic_rank=sem_head, geo_pairs=geo_head // 2, dropped_frequency=dropped,
                                  value_kept=value_kept))
    dtype = next(iter(source.values())).dtype
    missing, unexpected = student.to(dtype).load_state_dict(state, strict=False)
    if missing or unexpected:  # a teacher layout this mapping does not know: never a half-copied student
        raise CheckpointError(f"surgery left parameters unmapped: missing {missing}, unexpected {unexpected}")
    kv_ratio = (sem_dim + geo_dim + attention["v_dim"]) / heads / (2 * hd)
    return Surgery(student=student.eval(), config=config, report=report, kv_ratio=kv_ratio)


def _attention_state(prefix: str, f: FactoredAttention, fresh: dict[str, Tensor], gate: bool) -> dict[str, Tensor]:
    out = {f"{prefix}.{name}.weight": getattr(f, name) for name in ("q_sem", "k_sem", "q_geo", "k_geo")}
    if gate:
        out.update({f"{prefix}.gate_proj.{w}": fresh[f"{prefix}.gate_proj.{w}"].new_zeros(fresh[f"{prefix}.gate_proj.{w}"].shape)
                    for w in ("weight", "bias")})
    return out


def _dropped_frequency(teacher: dict[str, Any], hd: int, geo_head: int) -> float:
    """θ_m: the fastest teacher RoPE frequency moved to the (rotation-free) semantic path; 0 if none."""
    if geo_head >= hd:
        return 0.0
    rope = teacher["topology"]["layers"][0]["layers"][0]["layers"][1]
    theta = inverse_frequencies(hd, float(rope.get("rope_base", 10000.0)), rope.get("rope_scaling"))
    return float(theta[geo_head // 2])


def _ratio(kept: float, total: float) -> float:
    return 1.0 if total == 0 else kept / total
