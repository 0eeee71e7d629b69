"""``CachePolicy``: how each cached tensor is stored.

A policy names a storage kind per cached tensor — ``fp32``, ``fp16``, ``bf16`` (dense) or
``q8``, ``q4`` (block-wise quantised, see ``quant.py``) — plus the quantisation block size
and a *residual window*: the most recent N tokens stay in the compute dtype and are
quantised only once they leave the window (recent keys get the sharpest attention, so
keeping them exact costs N·(bytes/value) and buys accuracy).

``kinds`` overrides the kind per tensor name: DBA caches ``k_sem``, ``k_geo`` and ``v``,
each of which may use its own kind (e.g. q4 semantic keys, fp16 geometric keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

DENSE_DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
QUANTISED = ("q8", "q4")
KINDS = (*DENSE_DTYPES, *QUANTISED)


@dataclass(frozen=True)
class CachePolicy:
    """Storage of a KV cache (module docstring).

    Attributes:
        kind: default kind of every cached tensor.
        block_size: values per quantisation block (q8/q4; must divide each head width).
        residual_window: most recent tokens kept in the compute dtype (q8/q4 only).
        kinds: per-tensor overrides, e.g. ``{"k_sem": "q4", "k_geo": "fp16", "v": "q8"}``.
    """

    kind: str = "fp16"
    block_size: int = 32
    residual_window: int = 0
    kinds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, kind in {"kind": self.kind, **self.kinds}.items():
            if kind not in KINDS:
                raise ValueError(f"unknown cache kind {kind!r} for {name}; choose one of {', '.join(KINDS)}")
        if self.block_size < 1:
            raise ValueError(f"cache block_size must be ≥ 1, got {self.block_size}")
        if self.residual_window < 0:
            raise ValueError(f"cache residual_window must be ≥ 0, got {self.residual_window}")

    def kind_for(self, name: str) -> str:
        """The storage kind of the cached tensor ``name`` (``k``, ``v``, ``k_sem`` …)."""
        return self.kinds.get(name, self.kind)

    def describe(self) -> str:
        """A short label, e.g. ``q8/b32/r64`` or ``k_sem=q4,k_geo=fp16,v=q8``."""
        base = self.kind if self.kind in DENSE_DTYPES else f"{self.kind}/b{self.block_size}"
        if self.residual_window and (self.kind in QUANTISED or any(k in QUANTISED for k in self.kinds.values())):
            base += f"/r{self.residual_window}"
        if self.kinds:
            base += " (" + ",".join(f"{n}={k}" for n, k in sorted(self.kinds.items())) + ")"
        return base

    @classmethod
    def from_config(cls, config: Any | None, kind: str | None = None) -> "CachePolicy":
        """From a manifest ``cache:`` block (``CacheConfig``) or None; ``kind`` overrides its kind."""
        if config is None:
            return cls(kind=kind or "fp16")
        kinds = {name: value for name, value in (("k_sem", config.sem_kind), ("k_geo", config.geo_kind),
                                                   ("v", config.v_kind)) if value is not None}
        return cls(kind=kind or config.kind, block_size=config.block_size,
                   residual_window=config.residual_window, kinds=kinds)
