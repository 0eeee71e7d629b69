"""``ModelCache``: the KV cache of a whole model, one slot per attention layer.

Attention layers call ``ctx.cache.update(self, {"k": k, "v": v})`` (DBA:
``{"k_sem", "k_geo", "v"}``) with the new step's tensors (B, H_kv, T, D·); the cache
appends them to that layer's slot and returns the full history of each, in the dict's
key order and in the incoming (compute) dtype. Each tensor is stored in the kind the
policy names for it, so the memory is that of the real stored tensors — ``nbytes()``
sums them (packed 4-bit codes and float16 scales for q4).

Decode protocol: ``pos = cache.length`` before a forward, then
``model(ids, ForwardContext(start_pos=pos, cache=cache))``.
"""

from __future__ import annotations

import logging

from torch import Tensor, nn

from caramba.engine.infer.cache.dense import DenseCache
from caramba.engine.infer.cache.policy import DENSE_DTYPES, QUANTISED, CachePolicy
from caramba.engine.infer.cache.quantized import QuantizedCache

log = logging.getLogger("caramba")

Store = DenseCache | QuantizedCache
_announced: set[tuple[str, str]] = set()  # (policy, device) paths already logged in this process


class ModelCache:
    """Per-layer KV storage following a :class:`CachePolicy` (module docstring).

    Args:
        policy: storage kinds, block size and residual window.
        capacity: tokens to allocate up front per slot (prompt + new tokens); None grows
            the buffers by doubling.
    """

    def __init__(self, policy: CachePolicy | None = None, capacity: int | None = None) -> None:
        self.policy = policy or CachePolicy()
        self.capacity = capacity
        self.slots: dict[nn.Module, dict[str, Store]] = {}

    def _store(self, layer: nn.Module, name: str) -> Store:
        kind = self.policy.kind_for(name)
        if kind in DENSE_DTYPES:
            return DenseCache(DENSE_DTYPES[kind], self.capacity)
        where = f"{type(layer).__name__} #{len(self.slots)} tensor {name!r}"
        return QuantizedCache(kind, self.policy.block_size, self.policy.residual_window, self.capacity, where)

    def _announce(self, tensors: dict[str, Tensor]) -> None:
        """Log, once per process, which implementation this policy takes on this device."""
        key = (self.policy.describe(), str(next(iter(tensors.values())).device))
        if key not in _announced:
            _announced.add(key)
            quantised = any(self.policy.kind_for(name) in QUANTISED for name in tensors)
            from caramba.kernels.dispatch import plan

            if quantised and "kv_decode" in plan().triton and key[1].startswith("cuda"):
                path = ("decode steps of standard/GQA and DBA attention through the fused Triton kv_decode kernel "
                        "(power-of-two block sizes); prefill and the rest dequantise in PyTorch")
            else:
                path = "PyTorch block-wise quantisation" if quantised else "PyTorch dense"
            log.info("KV cache %s: %s path on %s", key[0], path, key[1])

    def attend(self, layer: nn.Module, q: Tensor, tensors: dict[str, Tensor], scale: float, q2: Tensor | None = None,
               scale2: float = 1.0, null: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor | None:
        """One decode step through the fused q8/q4 kernel, or None when it does not apply.

        Applies when the dispatch runs ``kv_decode`` on Triton (CUDA), one query per head,
        the layer caches exactly ``k``, ``v`` (standard/GQA) or ``k_sem``, ``k_geo``, ``v``
        (DBA: its geometric query is ``q2``, scaled by ``scale2``) and all of them are
        quantised with a power-of-two block size (decode steps after the prefill). Then the
        step's tensors are appended without dequantising the history and the attention
        output (B, H, 1, D_v) is returned; otherwise the caller uses ``update`` and its own
        attention, as before. ``null`` is DBA's learned null key (semantic, geometric
        parts) and value, each (H_kv, 1, ·), attended as one more dense position.
        """
        from caramba.kernels.dispatch import uses_triton

        names = ("k", "v") if q2 is None else ("k_sem", "k_geo", "v")
        slot = self.slots.get(layer)
        if slot is None or q.shape[-2] != 1 or tuple(slot) != names or tuple(tensors) != names:
            return None
        stores = [slot[name] for name in names]
        if not all(isinstance(s, QuantizedCache) for s in stores) or not _power_of_two(stores[0].block_size):
            return None
        if not uses_triton("kv_decode", q):
            return None
        from caramba.kernels.kv_decode import Segment, kv_decode

        for store, name in zip(stores, names, strict=True):
            store.push(tensors[name])
        k, v, k2 = stores[0], stores[-1], (stores[1] if q2 is not None else None)
        segments = []
        if k.quantised:
            second = (k2.codes, k2.scales, k2.kind) if k2 is not None else ()
            segments.append(Segment(k.codes, k.scales, k.kind, v.codes, v.scales, v.kind, k.quantised, *second))  # type: ignore[arg-type]
        if k.window is not None and v.window is not None:
            second = (k2.window, None, "dense") if k2 is not None else ()
            segments.append(Segment(k.window, None, "dense", v.window, None, "dense", k.window.shape[2], *second))  # type: ignore[arg-type]
        if null is not None:
            batch = q.shape[0]
            nk, nk2, nv = (t.to(q.dtype)[None].expand(batch, -1, -1, -1) for t in null)
            segments.append(Segment(nk, None, "dense", nv, None, "dense", 1, nk2, None, "dense"))
        return kv_decode(q, segments, self.policy.block_size, scale, q2, scale2)

    def update(self, layer: nn.Module, tensors: dict[str, Tensor]) -> tuple[Tensor, ...]:
        """Append this step's tensors to ``layer``'s slot; return each full history, in order."""
        slot = self.slots.get(layer)
        if slot is None:
            slot = self.slots[layer] = {name: self._store(layer, name) for name in tensors}
            self._announce(tensors)
        if slot.keys() != tensors.keys():
            raise KeyError(f"{type(layer).__name__} cached {sorted(slot)} before and now {sorted(tensors)}; "
                           "a layer must pass the same tensor names at every step")
        return tuple(slot[name].append(value) for name, value in tensors.items())

    @property
    def length(self) -> int:
        """Tokens held (the RoPE position of the next token); 0 when empty."""
        for slot in self.slots.values():
            for store in slot.values():
                return store.length
        return 0

    def nbytes(self) -> int:
        """Measured bytes of every stored tensor (used part of the real buffers)."""
        return sum(store.nbytes() for slot in self.slots.values() for store in slot.values())

    def allocated_nbytes(self) -> int:
        """Bytes allocated, spare capacity included."""
        return sum(store.allocated_nbytes() for slot in self.slots.values() for store in slot.values())

    def breakdown(self) -> dict[str, int]:
        """Measured bytes per tensor name (``k``, ``v``, ``k_sem`` …) over all layers."""
        out: dict[str, int] = {}
        for slot in self.slots.values():
            for name, store in slot.items():
                out[name] = out.get(name, 0) + store.nbytes()
        return out

    def reset(self) -> None:
        """Drop every slot (the buffers are freed)."""
        self.slots.clear()


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def fresh_cache(policy: CachePolicy | None, capacity: int | None = None) -> ModelCache | None:
    """A new ``ModelCache`` for ``policy``; None means decoding without a cache."""
    return None if policy is None else ModelCache(policy, capacity)

