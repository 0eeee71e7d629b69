"""The transformer blocks of a Llama-shaped ``TransformerModel``, run one at a time.

Upcycling works on the shape Hugging Face import and surgery produce (``engine/hf/llama.py``):
``embedder → Stacked[Nested(L)[Residual[norm, attention], Residual[norm, MLP]], norm, head]``.
Block i is the pair of residuals ``2i`` and ``2i+1`` of the nested stack; its *output* is
the residual stream after both, its *attention output* the attention sublayer's output
(before it is added to the stream). :class:`Blocks` runs the embedder, single blocks and
the head separately, so a forward can stop after block i (the truncated forward of the
blockwise phase) and every block's activations can be collected in one pass.

A model inside DDP (``DistributedDataParallel``) or sharded by FSDP2 (``fully_shard``) must
be called through its root forward — DDP's reducer and FSDP2's all-gathers run there — so
for those :class:`Blocks` runs the whole forward with forward hooks that collect the same
block outputs and attention outputs (no truncation: every block runs).
:func:`layout` reads the same facts from a model config dict, for validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn
from torch.distributed.fsdp import FSDPModule
from torch.nn.parallel import DistributedDataParallel

from caramba.engine.model.context import ForwardContext

TARGETS = ("block", "attention")


@dataclass(frozen=True)
class Layout:
    """What validation compares between teacher and student: block count and widths."""

    blocks: int
    d_model: int
    vocab: int
    attention: dict[str, Any]


def layout(model: dict[str, Any]) -> Layout:
    """The layout of a TransformerModel config dict; ValueError names what is not Llama-shaped."""
    try:
        stack = model["topology"]["layers"]
        nested = stack[0]
        if model.get("type") != "TransformerModel" or nested.get("type") != "NestedTopology" or len(stack) != 3:
            raise KeyError("topology")
        attention_res, mlp_res = nested["layers"]
        attention = attention_res["layers"][1]
        if attention_res.get("type") != "ResidualTopology" or mlp_res.get("type") != "ResidualTopology" \
                or attention.get("type") != "AttentionLayer":
            raise KeyError("block")
        return Layout(int(nested["repeat"]), int(model["embedder"]["d_model"]), int(model["embedder"]["vocab_size"]), dict(attention))
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError("upcycling needs a Llama-shaped TransformerModel: embedder → StackedTopology[NestedTopology(repeat L)"
                         "[ResidualTopology[norm, AttentionLayer], ResidualTopology[norm, MLP]], norm, LinearLayer]") from None


class Blocks:
    """Run a Llama-shaped ``TransformerModel`` piece by piece (see the module docstring)."""

    def __init__(self, model: nn.Module) -> None:
        self.root = model  # what a whole forward calls (the DDP wrapper, or the FSDP2 root)
        self.wrapped = isinstance(model, (DistributedDataParallel, FSDPModule))
        if isinstance(model, DistributedDataParallel):
            model = model.module
        stack = model.topology.layers  # type: ignore[union-attr]
        self.model, self.residuals, self.tail = model, list(stack[0].layers), list(stack[1:])
        if len(self.residuals) % 2:
            raise ValueError("the nested stack has an odd number of residuals; blocks are (attention, MLP) pairs")
        self.count = len(self.residuals) // 2

    def block_prefix(self, index: int) -> list[str]:
        """Parameter-name prefixes of block ``index`` (for freezing everything else)."""
        return [f"topology.layers.0.layers.{2 * index}.", f"topology.layers.0.layers.{2 * index + 1}."]

    def embed(self, ids: Tensor, ctx: ForwardContext) -> Tensor:
        """Token ids → the residual stream entering block 0."""
        return self.model.embedder(ids, ctx)  # type: ignore[operator,no-any-return]

    def block(self, index: int, h: Tensor, ctx: ForwardContext) -> tuple[Tensor, Tensor]:
        """(block output, attention-sublayer output) of block ``index`` on stream ``h``."""
        attention_res, mlp_res = self.residuals[2 * index], self.residuals[2 * index + 1]
        a = h
        for layer in attention_res.layers:
            a = layer(a, ctx)
        h = h + a
        return mlp_res(h, ctx), a

    def head(self, h: Tensor, ctx: ForwardContext) -> Tensor:
        """The final norm and the head: stream after the last block → logits."""
        for layer in self.tail:
            h = layer(h, ctx)
        return h

    def hooked(self, ids: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """(logits, block outputs, attention outputs) of one whole root forward, collected by forward hooks."""
        outs: list[Tensor] = [ids] * self.count
        atts: list[Tensor] = [ids] * self.count
        hooks = []
        for index in range(self.count):
            hooks.append(self.residuals[2 * index + 1].register_forward_hook(
                lambda _m, _i, out, k=index: outs.__setitem__(k, out)))
            hooks.append(self.residuals[2 * index].layers[-1].register_forward_hook(  # type: ignore[index]
                lambda _m, _i, out, k=index: atts.__setitem__(k, out)))
        try:
            logits = self.root(ids, ForwardContext())
        finally:
            for hook in hooks:
                hook.remove()
        return logits, outs, atts

    def trace(self, ids: Tensor, upto: int | None = None) -> tuple[list[Tensor], list[Tensor]]:
        """Block outputs and attention outputs of blocks ``0 … upto`` (all by default), one pass."""
        last = self.count - 1 if upto is None else upto
        if self.wrapped:
            _, outs, atts = self.hooked(ids)
            return outs[: last + 1], atts[: last + 1]
        ctx = ForwardContext()
        h, outs, atts = self.embed(ids, ctx), [], []
        for index in range(last + 1):
            h, a = self.block(index, h, ctx)
            outs.append(h)
            atts.append(a)
        return outs, atts

    def logits_and_outputs(self, ids: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Logits and every block's output, in one full forward."""
        if self.wrapped:
            logits, outs, _ = self.hooked(ids)
            return logits, outs
        outs, _ = self.trace(ids)
        return self.head(outs[-1], ForwardContext()), outs
