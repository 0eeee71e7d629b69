"""``verify: {type: compare}``: teacher vs student on the same batches, layer by layer.

Forward hooks capture the output of every attention layer (modules with ``n_heads``)
of both models; attention layers are paired in order, so a student whose attention
is a different kind (e.g. DBA replacing standard attention) compares with the layer it
replaced. Over ``batches`` validation batches: mean and max |teacher − student| of the
attention outputs (over all layers) and of the logits. Gates: ``attention`` and
``logits`` ``max_mean_l1`` / ``max_max_l1``. On several ranks each scores its share of the
batches and the sums and maxima are reduced (``context.py``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine import cancel
from caramba.engine.manifest.verify import CompareVerify
from caramba.engine.model.context import ForwardContext
from caramba.engine.train.evaluate import to_device
from caramba.engine.verify.context import VerifyContext
from caramba.engine.verify.gates import Gates


def attention_layers(model: nn.Module) -> list[nn.Module]:
    """Attention modules in definition order (outermost only)."""
    found: list[nn.Module] = []
    for module in model.modules():
        if hasattr(module, "n_heads") and not any(module is not f and module in list(f.modules()) for f in found):
            found.append(module)
    return found


def _capture(model: nn.Module, ids: Tensor) -> tuple[Tensor, list[Tensor]]:
    outputs: list[Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach().float())) for m in attention_layers(model)]
    try:
        logits = model(ids, ForwardContext()).detach().float()
    finally:
        for hook in hooks:
            hook.remove()
    return logits, outputs


class _L1:
    """Running mean and max of |a − b| over many tensors."""

    def __init__(self) -> None:
        self.total, self.count, self.max = 0.0, 0, 0.0

    def add(self, a: Tensor, b: Tensor) -> None:
        diff = (a - b).abs()
        self.total += float(diff.sum())
        self.count += diff.numel()
        self.max = max(self.max, float(diff.max()))

    def merge(self, ctx: VerifyContext) -> None:
        """Totals and maximum of every rank (one process: unchanged)."""
        self.total, self.count = ctx.total([self.total, float(self.count)])
        [self.max] = ctx.total([self.max], "max")

    @property
    def mean(self) -> float:
        return self.total / max(self.count, 1)


@torch.no_grad()
def verify_compare(config: CompareVerify, ctx: VerifyContext, gates: Gates) -> None:
    """Measure attention and logit L1 differences and apply the gates."""
    teacher = ctx.need_reference("compare")
    split = ctx.split("auto")
    n_student, n_teacher = len(attention_layers(ctx.student)), len(attention_layers(teacher))
    if n_student != n_teacher:
        raise ValueError(f"compare: the student has {n_student} attention layers and the teacher {n_teacher}; they cannot be paired")
    attention, logits = _L1(), _L1()
    modes = (ctx.student.training, teacher.training)
    ctx.student.eval(), teacher.eval()
    for index, counted in ctx.shares(config.batches, "verify compare"):  # this rank's batches (all of them in one process)
        cancel.check(f"verify compare (batch {index} of {config.batches})")
        ids = to_device(ctx.dataset.batch(split, index, ctx.batch_size), ctx.device)["inputs"]
        with ctx.autocast():
            s_logits, s_att = _capture(ctx.student, ids)
            t_logits, t_att = _capture(teacher, ids)
        if not counted:  # a padding batch: the forwards ran for the other ranks' collectives
            continue
        logits.add(t_logits, s_logits)
        for t, s in zip(t_att, s_att):
            attention.add(t, s)
    ctx.student.train(modes[0]), teacher.train(modes[1])
    attention.merge(ctx), logits.merge(ctx)
    gates.verdict.measurements.update(split=split, reference=ctx.reference_kind, attention_layers=n_student,
                                      attention_mean_l1=attention.mean, attention_max_l1=attention.max,
                                      logits_mean_l1=logits.mean, logits_max_l1=logits.max)
    if config.attention is not None:
        gates.at_most("attention.mean_l1", attention.mean, config.attention.max_mean_l1)
        gates.at_most("attention.max_l1", attention.max, config.attention.max_max_l1)
    if config.logits is not None:
        gates.at_most("logits.mean_l1", logits.mean, config.logits.max_mean_l1)
        gates.at_most("logits.max_l1", logits.max, config.logits.max_max_l1)
