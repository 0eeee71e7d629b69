"""Seeds, deterministic mode and the random state a checkpoint must carry.

A run seeds Python, NumPy and torch (CPU and CUDA) from its manifest seed before the
model is built, so the initial weights are a function of the seed alone (the fidelity
gate rebuilds them to get its reference).

Randomness inside a training step (dropout masks, any ``torch.rand`` of an objective) is
drawn after :func:`seed_micro_batch` reseeds torch's generators for that micro-batch from
(run seed, micro-batch index, first row) — the rows it trains. So each rank of a
distributed run draws its own masks (it trains other rows), a resumed run draws the masks
it would have drawn (on any number of ranks), and ranks that take whole micro-batches
draw exactly the one-process run's masks: DDP with dropout gives the one-process losses. ``deterministic`` turns on
``torch.use_deterministic_algorithms`` (and the cuBLAS workspace setting it requires);
together with the step-indexed data sampling and the RNG state saved in each checkpoint,
a resumed CPU run continues bit for bit.
"""

from __future__ import annotations

import hashlib
import os
import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed every generator the engine draws from."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_deterministic(enabled: bool) -> None:
    """Switch deterministic algorithms on or off for this process."""
    if enabled and torch.cuda.is_available():
        # cuBLAS reads this when its handle is created; it is the documented requirement of
        # use_deterministic_algorithms on CUDA, not a configuration channel.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled)
    torch.backends.cudnn.deterministic = enabled


def rng_state() -> dict[str, Any]:
    """Every generator's state (saved in checkpoints).

    Only tensors and plain Python values, so that ``torch.load(weights_only=True)`` reads
    it back without unpickling arbitrary objects: numpy's key array travels as a tensor.
    """
    name, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached))
    state: dict[str, Any] = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def micro_batch_seed(seed: int, index: int, first_row: int) -> int:
    """The generator seed of one micro-batch: a 63-bit hash of (run seed, micro-batch index, first row)."""
    digest = hashlib.blake2b(f"{seed}:{index}:{first_row}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def seed_micro_batch(seed: int, device: torch.device) -> None:
    """Reseed torch's CPU generator and ``device``'s (a CUDA device's alone, not every GPU's) with ``seed``.

    Setting a seed is host-side bookkeeping (no device synchronisation), cheap enough to do
    before every micro-batch."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        torch.cuda.default_generators[index].manual_seed(seed)
