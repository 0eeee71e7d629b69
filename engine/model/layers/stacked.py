"""``KeptStack``: a stacked copy of several parameters, kept for inference until one of them changes.

A layer that multiplies x by several weights (q, k, v projections) can run ONE matrix
multiply over their rows stacked, while its parameters and state-dict names stay the
separate Linears. Building the stack is a copy of the weights, so inference keeps it and
rebuilds only when a parameter's storage or version changes (an optimiser step, a load,
``.to``). A CUDA-graph capture may use a kept stack but never keeps one it builds: the
memory of a stack recorded in a capture is written only when the graph replays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import torch
from torch import Tensor

T = TypeVar("T")


class KeptStack(Generic[T]):
    """One kept value built from ``parameters`` (module docstring)."""

    def __init__(self) -> None:
        self._kept: tuple[tuple[tuple[int, int], ...], T] | None = None

    def get(self, parameters: Sequence[Tensor], build: Callable[[], T]) -> T:
        """The kept value when ``parameters`` are unchanged since it was built, else ``build()`` (kept unless capturing)."""
        key = tuple((p.data_ptr(), p._version) for p in parameters)
        if self._kept is not None and self._kept[0] == key:
            return self._kept[1]
        value = build()
        if not (parameters[0].is_cuda and torch.cuda.is_current_stream_capturing()):
            self._kept = (key, value)
        return value
