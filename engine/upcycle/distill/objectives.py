"""The objectives of the two distillation phases (the ``Objective`` contract of ``engine/train``).

* :class:`BlockwiseObjective` — block ``index`` only: the student runs a truncated forward
  (embedder and blocks ``0 … index−1`` without gradients — they are frozen — then block
  ``index``: :class:`BlockUnit`, which DDP wraps on several ranks) and stops there; the loss is ``distance(student, teacher)`` of that block's
  output or attention output. The teacher's activation comes from the
  :class:`TeacherCache` when the batch carries a ``batch_key``, otherwise from a truncated
  teacher forward that also stops at block ``index``.
* :class:`GlobalObjective` — the KD loss on the logits (``losses.kd_loss``), plus
  ``intermediate_weight`` × the mean MSE of the chosen blocks' outputs. The student is called
  through its root forward (DDP's or FSDP2's: ``Blocks`` collects block outputs by hooks there).

Both read ``inputs`` / ``targets`` like ``objective.next_token_ce`` and are used with
eager PyTorch (``compilable = False``): the cache lookup is host-side Python.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from caramba.engine.model.context import ForwardContext
from caramba.engine.train.objective import ObjectiveResult
from caramba.engine.upcycle.blocks import Blocks
from caramba.engine.upcycle.distill.cache import TeacherCache
from caramba.engine.upcycle.distill.losses import distance, kd_loss
from caramba.engine.upcycle.distill.unit import BlockUnit


class BlockwiseObjective:
    """distance(student block ``index``, teacher block ``index``) on a truncated forward."""

    compilable = False

    def __init__(self, teacher: nn.Module, index: int, target: str, loss: str, cache: TeacherCache | None) -> None:
        self.teacher, self.index, self.target, self.loss, self.cache = Blocks(teacher), index, target, loss, cache

    def teacher_activation(self, batch: dict[str, Tensor]) -> Tensor:
        """The teacher's output (or attention output) of block ``index`` for this batch."""
        ids = batch["inputs"]
        if self.cache is not None and "batch_key" in batch:
            split, number = (int(v) for v in batch["batch_key"][0].tolist())
            return self.cache.get((split, number), ids)[self.index]
        with torch.no_grad():
            outs, atts = self.teacher.trace(ids, upto=self.index)
        return (outs if self.target == "block" else atts)[self.index]

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """The block's distance to the teacher on ``batch``; ``model`` is the block's :class:`BlockUnit`
        (inside DDP on several ranks: what the trainer steps) or the whole student (evaluations)."""
        ids = batch["inputs"]
        unit = model if isinstance(model, (BlockUnit, DistributedDataParallel)) else BlockUnit(model, self.index, self.target)
        loss = distance(self.loss, unit(ids), self.teacher_activation(batch))
        return ObjectiveResult(loss=loss, metrics={"distance": loss.detach()}, count=ids.numel())


class GlobalObjective:
    """alpha·τ²·KL(teacher ‖ student at τ) + (1 − alpha)·CE (+ intermediate-layer MSE)."""

    compilable = False

    def __init__(self, teacher: nn.Module, temperature: float, alpha: float, blocks: list[int], weight: float) -> None:
        self.teacher, self.temperature, self.alpha = Blocks(teacher), temperature, alpha
        self.blocks, self.weight = blocks, weight

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """The KD loss of the student on ``batch`` against the teacher."""
        ids, targets = batch["inputs"], batch["targets"]
        with torch.no_grad():
            t_logits, t_outs = self.teacher.logits_and_outputs(ids)
        if self.blocks:
            s_logits, s_outs = Blocks(model).logits_and_outputs(ids)
        else:
            s_logits, s_outs = model(ids, ForwardContext()), []
        loss, kl, ce = kd_loss(s_logits, t_logits, targets, self.temperature, self.alpha)
        metrics: dict[str, float | Tensor] = {"kl": kl.detach(), "ce": ce.detach()}
        if self.blocks:
            inter = torch.stack([distance("mse", s_outs[i], t_outs[i]) for i in self.blocks]).mean()
            loss = loss + self.weight * inter
            metrics["intermediate_mse"] = inter.detach()
        return ObjectiveResult(loss=loss, metrics=metrics, count=targets.numel())
