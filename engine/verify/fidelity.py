"""``verify: {type: fidelity}``: a loss-based quality gate.

On ``batches`` held-out batches (``split``; ``auto`` = val when non-empty; on a token
file these are the evaluation protocol's windows, ``engine/data/heldout.py``), measure the
student's and the reference's mean objective loss (NLL for language models) on the same
tokens: ``ΔNLL = student − reference`` and ``PPL ratio = exp(ΔNLL)``. Gates:
``max_delta_nll`` (ΔNLL ≤ it) and ``max_ppl_ratio`` (ratio ≤ it). The reference is the
teacher, or the untrained initialisation (``context.py``).
"""

from __future__ import annotations

import math

from caramba.engine.manifest.verify import FidelityVerify
from caramba.engine.train.evaluate import mean_loss
from caramba.engine.verify.context import VerifyContext
from caramba.engine.verify.gates import Gates


def verify_fidelity(config: FidelityVerify, ctx: VerifyContext, gates: Gates) -> None:
    """Measure both NLLs and apply the gates."""
    split = ctx.split(config.split)
    reference = ctx.need_reference("fidelity")
    args = (ctx.objective, ctx.dataset, split, config.batches, ctx.batch_size, ctx.device, ctx.autocast)
    student_nll = mean_loss(ctx.student, *args)
    reference_nll = mean_loss(reference, *args)
    if student_nll is None or reference_nll is None:
        raise ValueError(f"fidelity: the {split} split is empty")
    delta = student_nll - reference_nll
    ratio = math.exp(delta)
    gates.verdict.measurements.update(split=split, reference=ctx.reference_kind, student_nll=student_nll,
                                      reference_nll=reference_nll, delta_nll=delta, ppl_ratio=ratio)
    heldout = getattr(ctx.dataset, "heldout", None)
    if split == "val" and heldout is not None:  # which of the protocol's windows both NLLs used (engine/data/heldout.py)
        gates.verdict.measurements["heldout"] = heldout.share(config.batches * ctx.batch_size)
    gates.at_most("delta_nll", delta, config.max_delta_nll)
    gates.at_most("ppl_ratio", ratio, config.max_ppl_ratio)
