"""Which decode path a model and cache policy take on a device: decided once, logged once.

Three paths, fastest first:

* **captured** (CUDA): static cache + the whole decode step (embedding → logits, cache write
  and attention included) recorded once in a CUDA graph and replayed per token, as gpt-fast
  does with ``torch.compile(mode="reduce-overhead")``. A batch-1 step of a ~100M-parameter
  model launches a few hundred small kernels; eagerly the CPU's launch time dominates
  (7–13 ms a token on an H100), replayed from a graph the GPU runs them back to back.
  Plain CUDA graphs, not ``torch.compile``: capture takes milliseconds and needs no
  compilation per model and cache kind.
* **static** (CPU, or CUDA without graphs): the same static cache and step, run eagerly.
* **growing** (``ModelCache``): the cache of ``engine/infer/cache``, for what a static
  cache does not hold — a residual window (tokens move between stores) — or models with
  layers a static step does not support (``UNSUPPORTED``).

Attention inside a static step runs the Triton ``kv_decode`` kernel when the dispatch chose it
(CUDA with Triton), every quantisation block is a power of two and no tensor is cached in
fp32 (the kernel's products are float16: an fp32 cache asks for float32 attention); otherwise
PyTorch's masked SDPA over the buffer's capacity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from caramba.engine.infer.cache.policy import QUANTISED, CachePolicy

log = logging.getLogger("caramba")

# Layers a static step cannot run: data-dependent shapes (MoE routing), their own chunked
# caches (RecurrentTopology) or state carried outside the KV cache (SSM).
UNSUPPORTED = ("MoELayer", "SSMLayer", "RecurrentTopology")
_announced: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class DecodePath:
    """The decision: ``static`` cache or not, step ``captured`` in a CUDA graph, attention ``kernel`` or not."""

    static: bool
    captured: bool
    kernel: bool
    reason: str

    def describe(self) -> str:
        """One line for logs and reports, e.g. ``captured (CUDA graph), attention: Triton kv_decode``."""
        if not self.static:
            return f"growing cache, eager steps ({self.reason})"
        attention = "Triton kv_decode" if self.kernel else "PyTorch masked SDPA"
        step = "captured (CUDA graph)" if self.captured else "static, eager steps"
        return f"{step}, attention: {attention}" + (f" ({self.reason})" if self.reason else "")


def decode_path(model: nn.Module, policy: CachePolicy | None, device: torch.device, capture: bool = True) -> DecodePath:
    """Choose the path (module docstring); ``capture=False`` keeps static steps eager on CUDA."""
    if policy is None:
        return DecodePath(False, False, False, "no cache: every step recomputes the prefix")
    if policy.residual_window:
        return DecodePath(False, False, False, "a residual window moves tokens between stores; static caches hold none")
    unsupported = sorted({type(m).__name__ for m in model.modules() if type(m).__name__ in UNSUPPORTED})
    if unsupported:
        return DecodePath(False, False, False, f"{', '.join(unsupported)} cannot run in a static step")
    from caramba.kernels.dispatch import plan

    kinds = {policy.kind, *policy.kinds.values()}
    quantised = any(k in QUANTISED for k in kinds)
    power_of_two = policy.block_size & (policy.block_size - 1) == 0
    on_cuda = device.type == "cuda"
    kernel = on_cuda and "kv_decode" in plan().triton and (power_of_two or not quantised) and "fp32" not in kinds
    reason = ""
    if on_cuda and not kernel:
        reason = (plan().path("kv_decode") if "kv_decode" not in plan().triton else
                  "an fp32 cache keeps float32 attention (the kernel multiplies in float16)" if "fp32" in kinds else
                  "block size not a power of two")
    if on_cuda and not capture:
        reason = "capture turned off" + (f"; {reason}" if reason else "")
    return DecodePath(True, on_cuda and capture, kernel, reason)


def announce(path: DecodePath, policy: CachePolicy | None, device: torch.device) -> None:
    """Log the path once per (policy, device, path) in this process."""
    key = (policy.describe() if policy else "none", str(device), path.describe())
    if key not in _announced:
        _announced.add(key)
        log.info("decode with cache %s on %s: %s", key[0], key[1], key[2])
