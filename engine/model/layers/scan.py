"""A parallel linear-recurrence scan: h_t = a_t ⊙ h_{t−1} + b_t over the time axis.

The pairs (a, b) compose associatively, (a₁, b₁) ∘ (a₂, b₂) = (a₁a₂, a₂b₁ + b₂), so the
Hillis–Steele scan (Hillis & Steele, 1986; Blelloch, 1990) computes every h_t in
⌈log₂ T⌉ vectorised steps instead of T sequential ones: at step s each position t ≥ 2^s
absorbs the partial result of position t − 2^s. The decays a_t = exp(Δ_t A) lie in
(0, 1], so the running products never overflow. This is the CPU/PyTorch path of the
Mamba selective scan; ``tests/model`` checks it against the sequential loop.
"""

from __future__ import annotations

import torch
from torch import Tensor


def linear_scan(a: Tensor, b: Tensor, h0: Tensor | None = None) -> Tensor:
    """All states h (same shape as a and b, time on dim 1) of h_t = a_t h_{t−1} + b_t.

    Args:
        a: decays (B, T, …).
        b: inputs (B, T, …).
        h0: initial state (B, …) or None for zeros.
    """
    length, shift = a.shape[1], 1
    while shift < length:
        head_a, tail_a = a[:, :shift], a[:, shift:]
        b = torch.cat([b[:, :shift], b[:, shift:] + tail_a * b[:, :-shift]], dim=1)
        a = torch.cat([head_a, tail_a * a[:, :-shift]], dim=1)
        shift *= 2
    if h0 is not None:
        b = b + a * h0.unsqueeze(1)
    return b
