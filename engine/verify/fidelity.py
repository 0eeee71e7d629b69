"""``verify: {type: fidelity}``: a loss-based quality gate.

On ``batches`` held-out batches (``split``; ``auto`` = val when non-empty; on a token
file these are the evaluation protocol's windows, ``engine/data/heldout.py``), measure the
student's and the reference's mean objective loss (NLL for language models) on the same
tokens: ``ΔNLL = student − reference`` and ``PPL ratio = exp(ΔNLL)``. Gates:
``max_delta_nll`` (ΔNLL ≤ it) and ``max_ppl_ratio`` (ratio ≤ it). The reference is the
teacher, or the untrained initialisation (``context.py``). On several ranks each scores its
share of the batches (both models on each), and the sums are added across ranks.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from caramba.engine import cancel
from caramba.engine.data.base import Split
from caramba.engine.manifest.verify import FidelityVerify
from caramba.engine.train.evaluate import mean_loss, to_device
from caramba.engine.verify.context import VerifyContext
from caramba.engine.verify.gates import Gates


@torch.no_grad()
def _shared_means(ctx: VerifyContext, models: list[nn.Module], split: Split, batches: int) -> list[float]:
    """Each model's mean loss over ``batches`` batches, this rank scoring its share, summed over the ranks."""
    sums = [0.0] * len(models)
    modes = [m.training for m in models]
    for model in models:
        model.eval()
    for index, counted in ctx.shares(batches, "verify fidelity"):
        cancel.check(f"verify fidelity (batch {index} of {batches})")
        batch = to_device(ctx.dataset.batch(split, index, ctx.batch_size), ctx.device)
        for k, model in enumerate(models):
            with ctx.autocast():
                loss = float(ctx.objective(model, batch).loss.detach().double())
            sums[k] += loss if counted else 0.0
    for model, mode in zip(models, modes):
        model.train(mode)
    return [total / batches for total in ctx.total(sums)]


def verify_fidelity(config: FidelityVerify, ctx: VerifyContext, gates: Gates) -> None:
    """Measure both NLLs and apply the gates."""
    split = ctx.split(config.split)
    reference = ctx.need_reference("fidelity")
    if ctx.dataset.split_size(split) == 0:
        raise ValueError(f"fidelity: the {split} split is empty")
    if ctx.world == 1:
        args = (ctx.objective, ctx.dataset, split, config.batches, ctx.batch_size, ctx.device, ctx.autocast)
        student_nll, reference_nll = mean_loss(ctx.student, *args), mean_loss(reference, *args)
        assert student_nll is not None and reference_nll is not None  # the split is not empty
    else:
        student_nll, reference_nll = _shared_means(ctx, [ctx.student, reference], split, config.batches)
    delta = student_nll - reference_nll
    ratio = math.exp(delta)
    gates.verdict.measurements.update(split=split, reference=ctx.reference_kind, student_nll=student_nll,
                                      reference_nll=reference_nll, delta_nll=delta, ppl_ratio=ratio)
    heldout = getattr(ctx.dataset, "heldout", None)
    if split == "val" and heldout is not None:  # which of the protocol's windows both NLLs used (engine/data/heldout.py)
        gates.verdict.measurements["heldout"] = heldout.share(config.batches * ctx.batch_size)
    gates.at_most("delta_nll", delta, config.max_delta_nll)
    gates.at_most("ppl_ratio", ratio, config.max_ppl_ratio)
