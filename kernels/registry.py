"""The kernel registry: one record per op, validated when it is made.

A record names the op (the name shared by its kernel, custom op / autograd rule, entry, test and
benchmark), the operation category it belongs to in the start-up log and the dry run's
kernel-path column, what it computes, the module holding its Triton kernel and the
lowest CUDA compute capability its configurations assume (bf16 loads and the block
shapes are written for Ampere and later). ``scope`` says where the kernel applies when it
covers only part of its category (the path line carries it). ``held_back`` is set, with
the measurement that decided it, for a kernel that is correct but measured slower than the
PyTorch path it would replace: the dispatch keeps PyTorch's path and says why.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class KernelOp:
    """One op of the dispatch (see the module docstring)."""

    name: str
    category: str
    computes: str
    kernel_module: str
    min_capability: tuple[int, int] = (8, 0)
    scope: str = ""
    held_back: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"kernel op name {self.name!r} must be a Python identifier (it names the entry function)")
        if not self.kernel_module.startswith("caramba.kernels."):
            raise ValueError(f"kernel op {self.name!r}: its kernel must live under caramba.kernels, got {self.kernel_module!r}")

    def load(self) -> ModuleType:
        """Import the module holding the Triton kernel and its custom op (or autograd Function)."""
        return importlib.import_module(self.kernel_module)


NORMS, GLU, ROPE, LOSS = "norms (RMSNorm/LayerNorm)", "MLP / GLU", "RoPE", "linear + cross-entropy"
KV_DECODE, DBA = "KV-cache quantisation", "DBA attention"

OPS: dict[str, KernelOp] = {op.name: op for op in (
    KernelOp("rms_norm", NORMS, "y = (x + r) / sqrt(mean((x + r)²) + eps) · g, residual sum returned",
             "caramba.kernels.rms_norm.kernel"),
    KernelOp("layer_norm", NORMS, "y = (h − mean h) / sqrt(var h + eps) · g + b with h = x + r, residual sum returned",
             "caramba.kernels.layer_norm.kernel"),
    KernelOp("glu", GLU, "y = act(gate) ⊙ up, act ∈ {SiLU (SwiGLU), GELU (GEGLU)}", "caramba.kernels.glu.kernel"),
    KernelOp("rope", ROPE, "q, k rotated in place by position·θᵢ (rotate-half layout, any θ scaling)",
             "caramba.kernels.rope.kernel"),
    KernelOp("linear_cross_entropy", LOSS,
             "mean CE of h·Wᵀ against targets (label smoothing, z-loss, ignore index), logits never materialised",
             "caramba.kernels.linear_cross_entropy.kernel"),
    KernelOp("dba_attention", DBA,
             "softmax(a·q_sem k_semᵀ + b·q_geo k_geoᵀ) v in one flash pass (causal, GQA, null key), fwd + bwd",
             "caramba.kernels.dba_attention.kernel",
             scope="prefill and training without attention dropout; decode steps and chunks after cached history "
                   "take SDPA",
             held_back="its Triton kernel measured slower than DBA's SDPA path, and the SDPA path meets the issue's "
                       "goal: on an H200, fwd+bwd at T=4096, SDPA path 1.17x cuDNN's standard attention of the same "
                       "heads and q/k width (0.436 vs 0.371 ms; goal <= 1.3x), Triton kernel 2.86x (1.060 ms); "
                       "docs/measurements.md"),
    KernelOp("kv_decode", KV_DECODE, "one decode step of (GQA or DBA) attention over q8/q4 codes dequantised in registers",
             "caramba.kernels.kv_decode.kernel",
             scope="decode steps of standard/GQA and DBA attention with a power-of-two block size (static caches: "
                   "dense ones too); prefill and the rest dequantise the history in PyTorch"),
)}


def lookup(name: str) -> KernelOp:
    """The record of ``name``; an unknown name lists the valid ones."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no kernel op named {name!r}; the registered ops are: {', '.join(sorted(OPS))}") from None
