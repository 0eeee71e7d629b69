"""``StaticCache``: a KV cache allocated once, whose fill level lives on the device.

It speaks the protocol of ``ModelCache`` (``engine/infer/cache/model.py``) so attention
layers need no change: the prefill runs eagerly through ``update`` (keys/values written at
the host position ``length``, the history returned in the compute dtype), and each decode
step through ``attend``: the step's keys/values are written at ``position`` — a one-element
device tensor — and attention reads the first ``position + 1`` tokens of the fixed buffers.
Nothing in a decode step depends on a host-side length, so the whole step can be captured
in a CUDA graph and replayed at every position (``StaticDecoder``).

Attention of a decode step takes one of two paths, chosen once by the decoder's plan:

* the Triton ``kv_decode`` kernel (CUDA): dense, q8 and q4 stores alike, both DBA key parts
  and the null key/value in one pass, the length read from the device;
* PyTorch: the whole capacity (dequantised for q8/q4) with a mask hiding the tokens past the
  fill level, then SDPA — the CPU's path, and CUDA's when Triton is missing.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.infer.cache.policy import DENSE_DTYPES, CachePolicy
from caramba.engine.infer.static.stores import StaticDense, StaticQuantized, StaticStore


class StaticCache:
    """Fixed-capacity per-layer storage following ``policy`` (module docstring).

    Args:
        policy: storage kinds and block size (no residual window: a static buffer holds none).
        capacity: tokens per slot (prompt + new tokens).
        kernel: decode steps attend through ``kernels.kv_decode`` (and q8/q4 writes through
            ``kv_store``); False: PyTorch's masked SDPA.
    """

    def __init__(self, policy: CachePolicy, capacity: int, kernel: bool) -> None:
        if policy.residual_window:
            raise ValueError("a static cache holds no residual window; use the growing ModelCache for one")
        self.policy, self.capacity, self.kernel = policy, capacity, kernel
        self.slots: dict[nn.Module, dict[str, StaticStore]] = {}
        self.length = 0
        self.fill: Tensor | None = None  # device [position, position + 1] while decoding

    def _store(self, layer: nn.Module, name: str, like: Tensor) -> StaticStore:
        kind = self.policy.kind_for(name)
        if kind in DENSE_DTYPES:
            return StaticDense(like, DENSE_DTYPES[kind], self.capacity)
        where = f"{type(layer).__name__} #{len(self.slots)} tensor {name!r}"
        return StaticQuantized(like, kind, self.policy.block_size, self.capacity, where, fused_store=self.kernel)

    def update(self, layer: nn.Module, tensors: dict[str, Tensor]) -> tuple[Tensor, ...]:
        """Eager (prefill) write at the host position ``length``; each history in the compute dtype."""
        if self.fill is not None:
            raise RuntimeError(f"{type(layer).__name__} called cache.update during a static decode step; static "
                               "decoding needs attention layers that attend through cache.attend")
        slot = self.slots.get(layer)
        if slot is None:
            slot = self.slots[layer] = {name: self._store(layer, name, x) for name, x in tensors.items()}
        if slot.keys() != tensors.keys():
            raise KeyError(f"{type(layer).__name__} cached {sorted(slot)} before and now {sorted(tensors)}")
        end = self.length + next(iter(tensors.values())).shape[2]
        if end > self.capacity:
            raise ValueError(f"static cache of {self.capacity} tokens cannot hold {end}; allocate a larger capacity")
        for name, x in tensors.items():
            slot[name].write(x, self.length)
        return tuple(slot[name].history(end, x.dtype) for name, x in tensors.items())

    def start_decoding(self, prompt_length: int, device: torch.device) -> None:
        """After the prefill of ``prompt_length`` tokens: put the fill level on the device."""
        self.length += prompt_length
        self.fill = torch.tensor([self.length, self.length + 1], dtype=torch.int64, device=device)
        self.positions = torch.arange(self.capacity, device=device)

    @property
    def position(self) -> Tensor:
        """(1,) int64 on the device: the RoPE position of the token being decoded (tokens held before it)."""
        assert self.fill is not None, "start_decoding first"
        return self.fill[:1]

    def advance(self) -> None:
        """Device side of a finished decode step: position and length move on by one (captured with the step)."""
        assert self.fill is not None
        self.fill.add_(1)

    def attend(self, layer: nn.Module, q: Tensor, tensors: dict[str, Tensor], scale: float, q2: Tensor | None = None,
               scale2: float = 1.0, null: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor | None:
        """A decode step (one query per head): write the step's tensors at ``position``, attend over the fill.

        Returns None before decoding starts (the prefill then goes through ``update``). The
        arguments are ``ModelCache.attend``'s: DBA passes its geometric query as ``q2`` and
        its null key (semantic, geometric parts) and value, each (H_kv, 1, ·), as ``null``.
        """
        if self.fill is None:
            return None
        slot = self.slots.get(layer)
        if slot is None or q.shape[-2] != 1:
            raise RuntimeError(f"{type(layer).__name__}: a static decode step takes one token per row after a "
                               "prefill that filled every attention layer's slot")
        for name, x in tensors.items():
            slot[name].write(x, self.position)
        stores = [slot[name] for name in tensors]
        if self.kernel:
            return self._attend_kernel(stores, q, scale, q2, scale2, null)
        return self._attend_torch(stores, q, scale, q2, scale2, null)

    def _attend_kernel(self, stores: list[StaticStore], q: Tensor, scale: float, q2: Tensor | None, scale2: float,
                       null: tuple[Tensor, Tensor, Tensor] | None) -> Tensor:
        from caramba.kernels.kv_decode import Segment, kv_decode

        assert self.fill is not None
        k, v = stores[0], stores[-1]
        second = (stores[1].data, stores[1].scales, stores[1].kind) if q2 is not None else ()
        segments = [Segment(k.data, k.scales, k.kind, v.data, v.scales, v.kind, self.fill[1:], *second)]  # type: ignore[arg-type]
        if null is not None:
            nk, nk2, nv = (t.to(q.dtype)[None].expand(q.shape[0], -1, -1, -1) for t in null)
            segments.append(Segment(nk, None, "dense", nv, None, "dense", 1, nk2, None, "dense"))
        quantised = any(isinstance(s, StaticQuantized) for s in stores)
        return kv_decode(q, segments, self.policy.block_size if quantised else 16, scale, q2, scale2)

    def _attend_torch(self, stores: list[StaticStore], q: Tensor, scale: float, q2: Tensor | None, scale2: float,
                      null: tuple[Tensor, Tensor, Tensor] | None) -> Tensor:
        assert self.fill is not None
        history = [store.history(None, q.dtype) for store in stores]               # (B, H_kv, capacity, ·)
        visible = self.positions < self.fill[1:]                                    # (capacity,)
        if q2 is None:
            k, v = history
        else:  # DBA: [a·q_sem, b·q_geo] · [k_sem, k_geo] is the sum of both score terms
            q, k, v, scale = torch.cat([q * scale, q2 * scale2], -1), torch.cat(history[:2], -1), history[2], 1.0
        if null is not None:
            nk, nv = torch.cat(null[:2], -1), null[2]
            k = torch.cat([nk.to(q.dtype)[None].expand(q.shape[0], -1, -1, -1), k], dim=2)
            v = torch.cat([nv.to(q.dtype)[None].expand(q.shape[0], -1, -1, -1), v], dim=2)
            visible = torch.cat([visible.new_ones(1), visible])
        return nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=visible[None, None, None, :], scale=scale,
                                                          enable_gqa=q.shape[1] != k.shape[1])

    def nbytes(self) -> int:
        """Bytes of the stored tokens (codes + scales for q8/q4) over every layer."""
        return sum(store.nbytes(self.length) for slot in self.slots.values() for store in slot.values())

    def allocated_nbytes(self) -> int:
        """Bytes allocated: the whole capacity."""
        return sum(store.allocated_nbytes() for slot in self.slots.values() for store in slot.values())
