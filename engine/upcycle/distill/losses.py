"""The distances and the knowledge-distillation loss of the upcycling phases.

* :func:`distance` — blockwise: ``mse`` (mean squared error over every element), ``l1``
  (mean absolute error) or ``cosine`` (mean over tokens of 1 − cos(student, teacher) along
  the feature axis), computed in float32.
* :func:`kd_loss` — global: Hinton, Vinyals & Dean (2015), "Distilling the knowledge in a
  neural network": soft targets p = softmax(z_T/τ), student log-probabilities
  log q = log_softmax(z_S/τ); the KD term is τ²·KL(p ‖ q) averaged over tokens (the τ²
  keeps its gradient scale independent of τ, §2 of the paper), mixed with the next-token
  cross-entropy on the hard targets: ``alpha·τ²·KL + (1 − alpha)·CE``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def distance(kind: str, student: Tensor, teacher: Tensor) -> Tensor:
    """The blockwise distance ``kind`` (mse, l1, cosine) between two (…, d) activations."""
    s, t = student.float(), teacher.float()
    if kind == "mse":
        return F.mse_loss(s, t)
    if kind == "l1":
        return F.l1_loss(s, t)
    if kind == "cosine":
        return (1.0 - F.cosine_similarity(s, t, dim=-1)).mean()
    raise ValueError(f"unknown distance {kind!r}; use mse, l1 or cosine")


def kl_per_token(student_logits: Tensor, teacher_logits: Tensor, temperature: float = 1.0) -> Tensor:
    """KL(softmax(z_T/τ) ‖ softmax(z_S/τ)) of every token position: (…, V) → (…)."""
    log_q = F.log_softmax(student_logits.float() / temperature, dim=-1)
    log_p = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def kd_loss(student_logits: Tensor, teacher_logits: Tensor, targets: Tensor, temperature: float, alpha: float,
            ignore_index: int = -100) -> tuple[Tensor, Tensor, Tensor]:
    """(alpha·τ²·KL + (1 − alpha)·CE, KL, CE) over the positions whose target is not ``ignore_index``."""
    flat = targets.reshape(-1)
    keep = (flat != ignore_index).float()
    vocab = student_logits.shape[-1]
    s, t = student_logits.reshape(-1, vocab), teacher_logits.reshape(-1, vocab)
    kl = (kl_per_token(s, t, temperature) * keep).sum() / keep.sum().clamp_min(1.0)
    ce = F.cross_entropy(s.float(), flat, ignore_index=ignore_index)
    return alpha * temperature ** 2 * kl + (1.0 - alpha) * ce, kl, ce
