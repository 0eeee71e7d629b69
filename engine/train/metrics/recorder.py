"""``Recorder``: per-step metrics buffered on the device and read back once per flush.

Reading a loss with ``.item()`` stalls the host until the device has finished the
step, so the trainer never does it per step: the recorder keeps each step's detached
scalars and stacks them into one host transfer when it flushes (about once a second,
at evaluations, checkpoints and the end; every step when a convergence target needs
each loss). Every step still gets its own JSONL row; tokens/s is the rate over the
flush window, MFU follows from it (``flops.py``), memory is the peak so far.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import torch
from torch import Tensor

FLUSH_S = 1.0


class Recorder:
    """Buffers (step, lr, loss, grad norm, objective metrics, tokens) until :meth:`flush`."""

    def __init__(self, device: torch.device, flops_per_token: float, peak: float | None, every_step: bool) -> None:
        self.device, self.flops_per_token, self.peak, self.every_step = device, flops_per_token, peak, every_step
        self._rows: list[tuple[int, float, Tensor, Tensor | None, dict[str, float | Tensor], int]] = []
        self._window_start = time.perf_counter()
        self._started = self._window_start

    def record(self, step: int, lr: float, loss: Tensor, grad_norm: Tensor | None,
               metrics: dict[str, float | Tensor], tokens: int) -> None:
        """Keep one finished optimiser step (``step`` = steps completed)."""
        self._rows.append((step, lr, loss, grad_norm, metrics, tokens))

    def due(self) -> bool:
        """True when the buffer should be read back now."""
        return bool(self._rows) and (self.every_step or time.perf_counter() - self._window_start >= FLUSH_S)

    def memory_mb(self) -> float:
        """Peak device memory (CUDA allocator) or peak resident set size (CPU), in MiB."""
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def flush(self) -> list[dict[str, Any]]:
        """Read the buffered steps back (one host sync) and return their JSONL rows."""
        if not self._rows:
            return []
        scalars: list[Tensor] = []
        for _, _, loss, norm, metrics, _ in self._rows:
            scalars.append(loss.float().reshape(()))
            scalars.append(norm.float().reshape(()) if norm is not None else loss.new_tensor(float("nan")).float())
            scalars += [v.float().reshape(()) for v in metrics.values() if isinstance(v, Tensor)]
        values = iter(torch.stack(scalars).tolist())
        now = time.perf_counter()
        tokens = sum(r[5] for r in self._rows)
        rate = tokens / max(now - self._window_start, 1e-9)
        mfu = rate * self.flops_per_token / self.peak if self.peak else None
        memory = self.memory_mb()
        out = []
        for step, lr, _, norm, metrics, _ in self._rows:
            row: dict[str, Any] = {"kind": "train", "step": step, "loss": next(values), "lr": lr}
            grad_norm = next(values)
            row["grad_norm"] = grad_norm if norm is not None else None
            for key, value in metrics.items():
                row[key] = next(values) if isinstance(value, Tensor) else float(value)
            row.update(tokens_per_s=rate, mfu=mfu, memory_mb=memory, time_s=now - self._started)
            out.append(row)
        self._rows.clear()
        self._window_start = now
        return out
