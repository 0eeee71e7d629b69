"""``glu``: the gated activation of SwiGLU/GEGLU, y = act(gate) ⊙ up, as the layers call it.

    y = glu(gate, up, "silu")   # SwiGLU;  "gelu" for GEGLU (exact, erf-based GELU)

Triton kernel on CUDA when dispatched (see ``kernel.py`` for the math), else PyTorch eager.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from caramba.kernels.dispatch import uses_triton

ACTIVATIONS = {"silu": F.silu, "gelu": F.gelu}


def glu_torch(gate: Tensor, up: Tensor, activation: str) -> Tensor:
    """The PyTorch path: ``act(gate) * up`` in the inputs' dtype."""
    return ACTIVATIONS[activation](gate) * up


def glu(gate: Tensor, up: Tensor, activation: str) -> Tensor:
    """act(gate) ⊙ up with act ∈ {"silu", "gelu"}; an unknown activation lists the valid ones."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"glu: no fused activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")
    if uses_triton("glu", gate):
        from caramba.kernels.glu.kernel import glu_triton

        return glu_triton(gate, up, activation)
    return glu_torch(gate, up, activation)
