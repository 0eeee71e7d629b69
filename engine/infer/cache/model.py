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
                path = ("decode steps of standard/GQA attention through the fused Triton kv_decode kernel "
                        "(power-of-two block sizes); prefill, DBA layers and other block sizes dequantise in PyTorch")
            else:
                path = "PyTorch block-wise quantisation" if quantised else "PyTorch dense"
            log.info("KV cache %s: %s path on %s", key[0], path, key[1])

    def attend(self, layer: nn.Module, q: Tensor, tensors: dict[str, Tensor], scale: float) -> Tensor | None:
        """One decode step through the fused q8/q4 kernel, or None when it does not apply.

        Applies when the dispatch runs ``kv_decode`` on Triton (CUDA), one query per head,
        the layer caches exactly ``k`` and ``v`` and both are quantised with a power-of-two
        block size (standard/GQA attention after its prefill). Then k and v are appended without dequantising the
        history and the attention output (B, H, 1, D) is returned; otherwise the caller
        uses ``update`` and its own attention, as before.
        """
        from caramba.kernels.dispatch import uses_triton

        slot = self.slots.get(layer)
        if slot is None or q.shape[-2] != 1 or slot.keys() != {"k", "v"} or tensors.keys() != {"k", "v"}:
            return None
        k, v = slot["k"], slot["v"]
        if not (isinstance(k, QuantizedCache) and isinstance(v, QuantizedCache)) or not _power_of_two(k.block_size):
            return None
        if not uses_triton("kv_decode", q):
            return None
        from caramba.kernels.kv_decode import Segment, kv_decode

        k.push(tensors["k"])
        v.push(tensors["v"])
        segments = []
        if k.quantised:
            segments.append(Segment(k.codes, k.scales, k.kind, v.codes, v.scales, v.kind, k.quantised))  # type: ignore[arg-type]
        if k.window is not None and v.window is not None:
            segments.append(Segment(k.window, None, "dense", v.window, None, "dense", k.window.shape[2]))
        return kv_decode(q, segments, self.policy.block_size, scale)

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

