"""Block i of the blockwise phase as a module of its own, and the strategy that trains it.

* :class:`BlockUnit` — the student's block ``index`` (its attention residual, and its MLP
  residual when ``distill_target`` is ``block``) as an ``nn.Module`` whose forward takes the
  token ids, runs the frozen prefix (embedder, blocks ``0 … index−1``) without gradients and
  returns the distilled activation. It registers the student's own residual modules (no
  copy): training the unit trains the student.
* :class:`BlockStrategy` — the run's :class:`Strategy` for one block's sub-run: it hands the
  trainer the unit instead of the whole student, so on several ranks DDP wraps only the block
  being trained (its gradients are averaged, its forward goes through DDP's, the frozen rest
  never enters the reducer). The student is *replicated* in this phase under every strategy,
  fsdp included: only one block trains, and its weights, gradients and optimizer state are
  those of one block; the frozen rest costs its weights on each rank. The teacher stays as
  placed (``runtime.distributed.teacher``). Everything else (batch shares, reductions,
  evaluations) is the run's strategy's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.train.distributed import Strategy
from caramba.engine.upcycle.blocks import Blocks


class BlockUnit(nn.Module):
    """The student's block ``index``, forward from token ids (see the module docstring)."""

    def __init__(self, student: nn.Module, index: int, target: str) -> None:
        super().__init__()
        blocks = Blocks(student)
        self.index, self.target = index, target
        self.attention = blocks.residuals[2 * index]
        self.mlp = blocks.residuals[2 * index + 1] if target == "block" else None
        self._prefix = [blocks]  # a list: the student is not a submodule (its parameters stay out of DDP)

    def forward(self, ids: Tensor) -> Tensor:
        """The block's output (``block``) or attention-sublayer output (``attention``) on ``ids``."""
        blocks, ctx = self._prefix[0], ForwardContext()
        with torch.no_grad():
            h = blocks.embed(ids, ctx)
            for j in range(self.index):
                h, _ = blocks.block(j, h, ctx)
        a = h
        for layer in self.attention.layers:  # type: ignore[union-attr]
            a = layer(a, ctx)
        return a if self.mlp is None else self.mlp(h + a, ctx)


class BlockStrategy(Strategy):
    """The run's strategy for one block's sub-run: wraps :class:`BlockUnit` (see the module docstring)."""

    def __init__(self, base: Strategy, unit: BlockUnit) -> None:
        super().__init__(base.ctx)
        self.kind = "ddp" if base.ctx.distributed else "single"
        self.unit = unit

    def describe(self) -> str:
        """One line for the run's log."""
        if self.kind == "single":
            return f"blockwise: block {self.unit.index + 1} trains in one process"
        return (f"blockwise: block {self.unit.index + 1} under DDP over {self.ctx.world_size} ranks ({self.ctx.backend}); "
                "the student is replicated, only this block's gradients are averaged")

    def wrap(self, model: nn.Module, device: torch.device, compiled: bool = False) -> tuple[nn.Module, nn.Module]:
        """(the unit — inside DDP on several ranks —, the student that owns the parameters and checkpoints)."""
        forward: Any
        forward, _ = super().wrap(self.unit, device, compiled)
        return forward, model
