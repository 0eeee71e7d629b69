"""The teacher-vs-student report of a phase: how close the student is, on held-out batches.

Over ``batches`` batches of the validation split (the train split when there is none),
both models in eval mode, one full forward each (float32 scoring):

* ``kl`` — KL(teacher ‖ student) of the next-token distributions at τ = 1, nats per token;
* ``top1_agreement`` — fraction of positions where both models' arg-max token is the same;
* ``layer_mse`` — per block, the mean squared difference of the block outputs;
* ``student_nll`` / ``teacher_nll`` — next-token cross-entropy (nats per token), and
  ``nll_ratio`` = student / teacher;
* ``kv_ratio`` — the values the student caches per token (all attention layers: keys,
  DBA's semantic and geometric keys, values) over the teacher's (:func:`kv_values`).

The trainer measures it at the start and at the end of every phase, so the report of the
first phase's start is the surgery alone (``artifacts/upcycle_report.json``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from caramba.engine.train.distributed.context import DistContext
from caramba.engine.train.distributed.shares import batch_shares, reduce_values
from caramba.engine.train.evaluate import to_device
from caramba.engine.upcycle.blocks import Blocks
from caramba.engine.upcycle.distill.losses import kl_per_token


KV_PROJECTIONS = ("k_proj", "k_sem", "k_geo", "v_proj")


def kv_values(model: nn.Module) -> int:
    """Values cached per token: the output widths of every attention layer's key and value projections."""
    total = 0
    for module in model.modules():
        if hasattr(module, "n_heads"):
            for name in KV_PROJECTIONS:
                projection = getattr(module, name, None)
                total += projection.out_features if isinstance(projection, nn.Linear) else 0
    return total


@torch.no_grad()
def fidelity(student: nn.Module, teacher: nn.Module, dataset: Any, batches: int, batch_size: int,
             device: torch.device, ranks: DistContext | None = None) -> dict[str, Any]:
    """The report's numbers (see the module docstring); on several ranks (``ranks``) each scores its
    share of the batches and the sums are added (``engine/train/distributed/shares.py``)."""
    split = "val" if dataset.split_size("val") > 0 else "train"
    modes = (student.training, teacher.training)
    student.eval(), teacher.eval()
    s_blocks, t_blocks = Blocks(student), Blocks(teacher)
    sums = [0.0] * (5 + s_blocks.count)  # kl, agreement, student NLL, teacher NLL, tokens, per-block MSE
    for index, counted in batch_shares(batches, ranks, "the teacher-vs-student report"):
        batch = to_device(dataset.batch(split, index, batch_size), device)
        ids, targets = batch["inputs"], batch["targets"]
        s_logits, s_outs = s_blocks.logits_and_outputs(ids)
        t_logits, t_outs = t_blocks.logits_and_outputs(ids)
        if not counted:  # padding: the forwards ran for the other ranks' collectives
            continue
        n = targets.numel()
        flat = targets.reshape(-1)
        sums[0] += float(kl_per_token(s_logits, t_logits).sum())
        sums[1] += float((s_logits.argmax(-1) == t_logits.argmax(-1)).sum())
        sums[2] += float(F.cross_entropy(s_logits.reshape(n, -1).float(), flat, reduction="sum"))
        sums[3] += float(F.cross_entropy(t_logits.reshape(n, -1).float(), flat, reduction="sum"))
        sums[4] += n
        for i, (s, t) in enumerate(zip(s_outs, t_outs)):
            sums[5 + i] += float(F.mse_loss(s.float(), t.float())) / batches
    student.train(modes[0]), teacher.train(modes[1])
    kl, agree, s_nll, t_nll, total, *layer = reduce_values(ranks, sums)
    tokens = int(total)
    return {"split": split, "batches": batches, "tokens": tokens, "kl": kl / tokens, "top1_agreement": agree / tokens,
            "layer_mse": layer, "student_nll": s_nll / tokens, "teacher_nll": t_nll / tokens,
            "nll_ratio": (s_nll / t_nll) if t_nll else float("nan"), "kv_ratio": kv_values(student) / max(kv_values(teacher), 1)}


def describe(name: str, report: dict[str, Any]) -> str:
    """One line for the console: ``before blockwise: KL 0.31 …``."""
    layers = ", ".join(f"{v:.3g}" for v in report["layer_mse"])
    return (f"{name}: KL(teacher‖student) {report['kl']:.4f} nats/token, top-1 agreement {report['top1_agreement']:.3f}, "
            f"NLL student {report['student_nll']:.4f} vs teacher {report['teacher_nll']:.4f} "
            f"(×{report['nll_ratio']:.3f}), block-output MSE [{layers}], KV cache ×{report['kv_ratio']:.3f} "
            f"({report['split']}, {report['tokens']} tokens)")
