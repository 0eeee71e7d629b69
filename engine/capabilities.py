"""Capability detection: what this machine can do, detected once per process.

The engine never asks "is there a faster path?" at run time: ``detect()`` answers once
(device, CUDA capability, Triton, torch.compile) and ``paths()`` names the
implementation each operation category takes, which the CLI logs at start-up
(⚡ fastest available path, 🐢 a compromise worth knowing about). On the CPU the
PyTorch path *is* the fast path.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from dataclasses import dataclass

log = logging.getLogger("caramba")

FAST, COMPROMISED = "⚡", "🐢"


@dataclass(frozen=True)
class Capabilities:
    """What the process can use.

    Attributes:
        device: ``cuda`` when a CUDA device is usable, else ``cpu`` (MPS: ``mps``).
        device_name: e.g. ``NVIDIA H100 80GB HBM3`` or the CPU count.
        cuda_capability: (major, minor) or None.
        triton: Triton importable and a CUDA device present (kernels can run).
        compile: torch.compile is expected to pay off (CUDA + Triton).
        bf16: bfloat16 matmuls are native on the device.
        torch_version: the installed torch.
    """

    device: str
    device_name: str
    cuda_capability: tuple[int, int] | None
    triton: bool
    compile: bool
    bf16: bool
    torch_version: str

    def paths(self) -> dict[str, tuple[str, str]]:
        """Operation category → (icon, implementation) on this machine.

        The categories with a caramba kernel (norms, GLU, RoPE, linear + cross-entropy,
        KV-cache quantisation) read the kernel dispatch's plan (``caramba.kernels.dispatch``),
        decided once per process.
        """
        from caramba.kernels.dispatch import plan

        kernels = plan().category_paths()
        if self.device == "cuda":
            attention = "PyTorch SDPA (its own choice of cuDNN / flash / memory-efficient kernels)"
            compiled = "torch.compile (Inductor/Triton fused)" if self.compile else "PyTorch eager"
            icon = FAST if self.compile else COMPROMISED
            kernel_rows = {category: (FAST if on_triton else icon, text) for category, (on_triton, text) in kernels.items()}
            return {
                "attention": (FAST, attention),
                **kernel_rows,
                "SSM scan": (icon, f"chunked parallel scan, {compiled}"),
                "optimizer": (FAST, "fused AdamW (CUDA)"),
            }
        return {
            "attention": (FAST, "PyTorch SDPA (CPU fused kernel)"),
            **{category: (FAST, text) for category, (_, text) in kernels.items()},
            "SSM scan": (FAST, "chunked parallel scan in PyTorch"),
            "optimizer": (FAST, "foreach AdamW (CPU)"),
        }

    def describe(self) -> list[str]:
        """The start-up log lines: detection summary, then one line per category."""
        cap = f", compute capability {self.cuda_capability[0]}.{self.cuda_capability[1]}" if self.cuda_capability else ""
        lines = [f"[CARAMBA] Device: {self.device.upper()} ({self.device_name}{cap}), torch {self.torch_version}"]
        lines += [f"[CARAMBA] {icon} {op}: {impl}" for op, (icon, impl) in self.paths().items()]
        return lines


@functools.lru_cache(maxsize=1)
def detect() -> Capabilities:
    """Detect once per process (imports torch)."""
    import os

    import torch

    if torch.cuda.is_available():
        index = torch.cuda.current_device()
        capability = torch.cuda.get_device_capability(index)
        triton = importlib.util.find_spec("triton") is not None
        return Capabilities("cuda", torch.cuda.get_device_name(index), capability, triton, triton,
                            torch.cuda.is_bf16_supported(), torch.__version__)
    if torch.backends.mps.is_available():
        return Capabilities("mps", "Apple GPU", None, False, False, True, torch.__version__)
    return Capabilities("cpu", f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} threads", None, False, False, True, torch.__version__)


def resolve_device(requested: str, where: str = "the run") -> str:
    """Map a manifest ``device`` to a usable one; ``auto`` picks the detected device.

    Raises ValueError when a device is named that this machine does not have; ``where`` names
    the run in that message (e.g. ``run 'train-s1' of target 'scratch'``).
    """
    caps = detect()
    if requested == "auto":
        return caps.device
    kind = requested.split(":")[0]
    if kind != "cpu" and kind != caps.device:
        raise ValueError(f"the manifest asks for device {requested!r} but this machine has {caps.device} ({caps.device_name}); "
                         f"set train.device: {caps.device} or auto in {where} (or --set 'targets[i].runs[j].train.device=auto', "
                         "i and j its positions in the manifest)")
    return requested


def log_once() -> Capabilities:
    """Detect and log the start-up lines once (idempotent)."""
    caps = detect()
    if not getattr(log_once, "_done", False):
        for line in caps.describe():
            log.info(line)
        log_once._done = True  # type: ignore[attr-defined]
    return caps
