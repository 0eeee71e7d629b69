"""Kernel tests: each Triton kernel against a float64 PyTorch reference written in its test.

On a machine without CUDA the kernels run in Triton's interpreter: ``TRITON_INTERPRET``
is Triton's own switch and is read when a kernel is decorated, so it is set here, before
any test imports a ``kernel.py`` (nothing outside these tests imports one on the CPU; the
dispatch never picks Triton there). On a CUDA machine the same tests compile and run the
kernels on the GPU. Shapes are small and odd (non-power-of-two widths, T=1) so that
masking and indexing are exercised and the interpreter stays fast.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
import torch

from caramba.kernels.dispatch import KernelPlan

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

# ‖got − ref‖∞ allowed, relative to ‖ref‖∞ (+ an absolute floor), per compute dtype.
TOLERANCE = {torch.float32: (1e-4, 1e-5), torch.bfloat16: (2e-2, 2e-2), torch.float16: (4e-3, 4e-3)}


def assert_close(name: str, got: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype, scale: float = 1.0) -> None:
    """Fail with the worst elements when ``got`` differs from the float64 ``ref`` beyond ``dtype``'s tolerance.

    The bound is rtol·max|ref| + atol (times ``scale`` for quantities summed over many rows).
    """
    assert got.shape == ref.shape, f"{name}: shape {tuple(got.shape)} != reference {tuple(ref.shape)}"
    got64, ref64 = got.detach().double().cpu(), ref.detach().double().cpu()
    assert torch.isfinite(got64).all(), f"{name}: {int((~torch.isfinite(got64)).sum())} non-finite values"
    rtol, atol = TOLERANCE[dtype]
    bound = (rtol * ref64.abs().max().item() + atol) * scale
    diff = (got64 - ref64).abs()
    if diff.max().item() > bound:
        worst = diff.flatten().topk(min(5, diff.numel())).indices
        rows = [f"  at {tuple(int(i) for i in torch.unravel_index(w, diff.shape))}: got {got64.flatten()[w]:.6g}, "
                f"reference {ref64.flatten()[w]:.6g}" for w in worst]
        pytest.fail(f"{name} ({dtype}): max |diff| {diff.max().item():.3g} > bound {bound:.3g}; "
                    f"{int((diff > bound).sum())} of {diff.numel()} elements out of bound\n" + "\n".join(rows))


@dataclass(frozen=True)
class Everywhere(KernelPlan):
    """A plan that sends every op to its Triton kernel, CPU tensors too (the interpreter runs them there).

    Build it as ``Everywhere("cuda", frozenset(OPS))``; ``asked`` records the ops the code
    asked about, so a test can check that a layer consulted the dispatch.
    """

    asked: list[str] = field(default_factory=list)

    def uses_triton(self, op: str, tensor: torch.Tensor) -> bool:
        self.asked.append(op)
        return op in self.triton


@pytest.fixture
def generator() -> torch.Generator:
    """A seeded generator on the CPU: every test draws fresh, reproducible random inputs."""
    return torch.Generator().manual_seed(20)


def randn(generator: torch.Generator, *shape: int, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
    """Random normal values drawn on the CPU in float64, then cast and moved to the test device."""
    return (torch.randn(*shape, generator=generator, dtype=torch.float64) * scale).to(dtype).to(DEVICE)


@contextmanager
def kernel_benchmark(name: str) -> Iterator[ModuleType]:
    """``benchmarks/kernels/<name>.py`` loaded as a module, with its folder on ``sys.path`` while in use
    (the scripts import ``runner.py`` beside them, as when run as ``python benchmarks/kernels/<name>.py``)."""
    folder = Path(__file__).resolve().parents[2] / "benchmarks" / "kernels"
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        assert spec is not None and spec.loader is not None, f"no benchmark {name}.py in {folder}"
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(folder))
