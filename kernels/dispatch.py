"""The dispatch: which ops take the Triton path on this machine, decided once per process.

``choose(device, capability, triton)`` is the pure decision (tested on its own);
``plan()`` runs it once on the detected machine and caches it. An op takes the Triton
path when the device is CUDA, its compute capability reaches the op's minimum and Triton
is importable; otherwise the PyTorch path, with the reason recorded. At call time an entry
asks ``uses_triton(op, tensor)``: the Triton path runs only for CUDA tensors, so the same
model still runs on the CPU or the meta device (the dry run) through PyTorch — the plan's
lines say so, nothing is decided silently per call.

Inside a ``torch.compile`` region (the trainer compiles model + objective on CUDA) an op
takes its Triton kernel only when it is in ``KERNELS_INSIDE_COMPILE``; the others take
PyTorch's path, which Inductor fuses with its neighbours. Every kernel is a
``torch.library`` custom op with a fake implementation and an autograd rule (the path
compiled graphs take; eager calls of the norms, GLU and RoPE use a plain autograd Function
over the same launches, cheaper on the host), so a kernel inside the compiled step is one node of the graph — it no longer splits it, as the
autograd Functions of the first version did (GPT-2 124M at 0.53× nanoGPT's tokens/s with
them). Whether an op belongs in the set is decided by measurement, end to end
(``benchmarks/gpt2_h100.py --compare-kernels``, docs/measurements.md): a custom op is
opaque to Inductor, so it only pays where the kernel beats what Inductor generates plus
the fusions it prevents. The benchmark reassigns the set to measure each choice; the path
lines say what holds. Measured on an H200 (torch 2.11): the fused linear + cross-entropy
inside GPT-2 124M's compiled step ran at 0.968× nanoGPT against 1.000× for PyTorch's path
(Inductor's compiled linear + CE: 8.2 ms fwd+bwd at that shape, the kernel 8.5 ms at
4096-row chunks; it holds 0.48 instead of 1.63 GiB), so the set ships empty.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import torch

from caramba.kernels.registry import OPS, lookup

# Ops whose Triton kernel also runs inside torch.compile regions (module docstring).
KERNELS_INSIDE_COMPILE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class KernelPlan:
    """The per-op choice: ``triton`` holds the ops that run their Triton kernel on CUDA tensors."""

    device: str
    triton: frozenset[str]
    reasons: dict[str, str] = field(default_factory=dict)

    def uses_triton(self, op: str, tensor: torch.Tensor) -> bool:
        """True when ``op`` was chosen for Triton and ``tensor`` lives on a CUDA device."""
        return op in self.triton and tensor.is_cuda

    def path(self, op: str) -> str:
        """One line: the path ``op`` takes and why."""
        record = lookup(op)
        if op in self.triton:
            where = ("; inside torch.compile regions too (a custom op in the graph)" if op in KERNELS_INSIDE_COMPILE
                     else "; inside torch.compile regions Inductor fuses PyTorch's path")
            return ("Triton kernel (fixed configs, no autotuning)" + (f" for {record.scope}" if record.scope else "")
                    + where)
        return f"PyTorch ({self.reasons[op]})"

    def category_paths(self) -> dict[str, tuple[bool, str]]:
        """Category → (all its ops on Triton, 'op, op: path' for each distinct path in it)."""
        grouped: dict[str, dict[str, list[str]]] = {}
        for name, op in OPS.items():
            grouped.setdefault(op.category, {}).setdefault(self.path(name), []).append(name)
        return {category: (all(n in self.triton for names in paths.values() for n in names),
                           "; ".join(f"{', '.join(names)}: {path}" for path, names in paths.items()))
                for category, paths in grouped.items()}


def choose(device: str, capability: tuple[int, int] | None, triton: bool) -> KernelPlan:
    """Decide the path of every registered op (see the module docstring)."""
    chosen: set[str] = set()
    reasons: dict[str, str] = {}
    for name, op in OPS.items():
        if device != "cuda":
            reasons[name] = f"{device} device: PyTorch's fused op is the fast path there"
        elif not triton:
            reasons[name] = "Triton is not importable on this CUDA machine"
        elif capability is None or capability < op.min_capability:
            need = f"{op.min_capability[0]}.{op.min_capability[1]}"
            reasons[name] = f"compute capability {capability} is below the kernel's {need}"
        elif op.held_back:
            reasons[name] = op.held_back
        else:
            chosen.add(name)
    return KernelPlan(device, frozenset(chosen), reasons)


_PLAN: list[KernelPlan] = []  # the process's plan once detected (a plain global: see ``plan``)


def plan() -> KernelPlan:
    """The plan of this process, detected on first use and then fixed.

    Kept in a module global rather than behind ``functools.lru_cache``: Dynamo ignores
    that cache and would trace the detection (device queries, ``find_spec``) inside the
    compiled step; a global it reads as a constant.
    """
    if not _PLAN:
        _PLAN.append(detect())
    return _PLAN[0]


def detect() -> KernelPlan:
    """Detect the machine and ``choose`` every op's path (``plan`` calls it once per process)."""
    if torch.cuda.is_available():
        capability = torch.cuda.get_device_capability(torch.cuda.current_device())
        return choose("cuda", capability, importlib.util.find_spec("triton") is not None)
    return choose("mps" if torch.backends.mps.is_available() else "cpu", None, False)


def uses_triton(op: str, tensor: torch.Tensor) -> bool:
    """Whether this call of ``op`` on ``tensor`` runs the Triton kernel (``plan().uses_triton``).

    Inside a ``torch.compile`` region only for the ops in ``KERNELS_INSIDE_COMPILE`` (module docstring).
    """
    if torch.compiler.is_compiling() and op not in KERNELS_INSIDE_COMPILE:
        return False
    return plan().uses_triton(op, tensor)
