"""``StaticDecoder``: prefill eagerly, then decode steps over a static cache, replayed from a CUDA graph.

    state = StaticDecoder(model, policy, capacity, path)      # path from ``decode_path``
    logits = state.prefill(prompt)                            # (B, V), eager
    logits = state.step(token)                                # (B, V) per new token (B, 1)

The step's inputs (the token buffer, the cache's device position) and outputs (the logits
buffer) stay at fixed addresses. On a captured path the first step runs eagerly on a side
stream (it compiles the Triton kernels and creates the library handles the capture needs),
the second is recorded into a ``torch.cuda.CUDAGraph`` and replayed, and every later step
is one replay: the token is copied in, the graph runs embedding → layers → logits with the
cache writes and the position increment inside it. ``step`` returns a copy of the logits.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.infer.cache.policy import CachePolicy
from caramba.engine.infer.static.cache import StaticCache
from caramba.engine.infer.static.plan import DecodePath
from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.positions import PositionalEmbeddingLayer
from caramba.engine.model.layers.rope_tables import RopeTables


class StaticDecoder:
    """Stepwise decoding over a :class:`StaticCache` (module docstring); same interface as ``Decoder``."""

    def __init__(self, model: nn.Module, policy: CachePolicy, capacity: int, path: DecodePath) -> None:
        if not path.static:
            raise ValueError(f"StaticDecoder needs a static decode path, got: {path.describe()}")
        for module in model.modules():
            if isinstance(module, PositionalEmbeddingLayer) and capacity > module.max_seq_len:
                raise ValueError(f"positions up to {capacity - 1} requested but max_seq_len={module.max_seq_len}; "
                                 "raise max_seq_len in the manifest or generate fewer tokens")
        self.model, self.path, self.capacity = model, path, capacity
        self.cache = StaticCache(policy, capacity, path.kernel)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.token: Tensor | None = None
        self.logits: Tensor | None = None
        self.steps = 0
        self.rope_kept: dict[tuple[object, ...], Tensor] = {}

    @torch.no_grad()
    def prefill(self, ids: Tensor) -> Tensor:
        """Run the prompt (B, T) eagerly into the cache; logits of its last position (B, V)."""
        if self.token is not None:
            raise RuntimeError("prefill on a used StaticDecoder; create a new one for a new prompt")
        if ids.shape[1] > self.capacity:
            raise ValueError(f"a prompt of {ids.shape[1]} tokens does not fit a static cache of {self.capacity}")
        logits = self.model(ids, ForwardContext(start_pos=0, cache=self.cache, rope_tables=RopeTables()))[:, -1]
        self.cache.start_decoding(ids.shape[1], ids.device)
        self.token = ids.new_zeros(ids.shape[0], 1)
        return logits

    def _body(self) -> Tensor:
        """One decode step on the static buffers: what the graph records (RoPE rows picked once for all layers)."""
        assert self.token is not None
        tables = RopeTables(self.capacity, self.rope_kept)  # every position's RoPE row, built once, then picked
        ctx = ForwardContext(start_pos=self.cache.position, cache=self.cache, rope_tables=tables)
        logits = self.model(self.token, ctx)[:, -1]
        self.cache.advance()
        return logits

    @torch.no_grad()
    def step(self, token: Tensor) -> Tensor:
        """Append ``token`` (B, 1); logits of the new last position (B, V)."""
        if self.token is None:
            raise RuntimeError("call prefill(prompt) before step(token)")
        if self.cache.length >= self.capacity:
            raise ValueError(f"the static cache is full ({self.capacity} tokens); allocate prompt + new tokens")
        self.token.copy_(token)
        if self.graph is not None:
            self.graph.replay()
        elif self.path.captured and self.steps == 0:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.logits = self._body()
            torch.cuda.current_stream().wait_stream(side)
        elif self.path.captured:
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.logits = self._body()
            self.graph.replay()
        else:
            self.logits = self._body()
        self.cache.length += 1
        self.steps += 1
        assert self.logits is not None
        return self.logits.clone()
