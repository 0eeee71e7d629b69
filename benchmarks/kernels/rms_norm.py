"""``rms_norm`` table: 16384 × 4096 bf16, caramba vs eager (the layer's fp32 ``F.rms_norm``) vs compile vs Liger.

``norm_rows`` is shared with ``layer_norm.py``: bandwidth counts x, y forward and dy, x, dx
backward (the 5·M·N convention of Liger's benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from runner import DT, liger, run_impls

M, N = 16384, 4096


def norm_rows(op: str, impls: dict[str, object], inputs: tuple[torch.Tensor, ...],
              dy: torch.Tensor) -> list[dict[str, object]]:
    """Time forward (no grad) and fwd+bwd (every input gradient) of each implementation."""
    def forward(fn: Callable) -> Callable[[], object]:
        def go() -> object:
            with torch.no_grad():
                return fn(*inputs)
        return go

    def both(fn: Callable) -> Callable[[], object]:
        return lambda: torch.autograd.grad(fn(*inputs), inputs, dy)

    return run_impls(op, impls, forward, both, 2 * M * N * 2, 5 * M * N * 2)


def norm_inputs(bias: bool) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """(x, weight[, bias]) requiring grad, and the incoming gradient dy."""
    x = torch.randn(M, N, device="cuda", dtype=DT, requires_grad=True)
    params = [torch.randn(N, device="cuda", dtype=DT).requires_grad_() for _ in range(2 if bias else 1)]
    return (x, *params), torch.randn(M, N, device="cuda", dtype=DT)


def rows() -> list[dict[str, object]]:
    """The rms_norm table's rows."""
    from caramba.kernels.rms_norm.kernel import rms_norm_triton

    inputs, dy = norm_inputs(bias=False)
    eager = lambda x, w: F.rms_norm(x.float(), (N,), w.float(), 1e-6).to(x.dtype)  # noqa: E731  the layer's path
    lg = liger("liger_kernel.ops.rms_norm:LigerRMSNormFunction")
    theirs = (lambda x, w: lg.apply(x, w, 1e-6)) if not isinstance(lg, str) else lg  # noqa: E731
    impls = {"caramba": lambda x, w: rms_norm_triton(x, w, 1e-6)[0], "eager": eager,
             "torch.compile": torch.compile(eager), "liger": theirs}
    return norm_rows("rms_norm", impls, inputs, dy)
