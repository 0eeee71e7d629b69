"""``glu`` table: SwiGLU's silu(gate) ⊙ up at 8192 × 11008 bf16 (bytes: 3·n forward, 8·n fwd+bwd)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from runner import DT, liger, run_impls


def rows() -> list[dict[str, object]]:
    """SwiGLU's gated activation silu(gate) ⊙ up at 8192 × 11008."""
    from caramba.kernels.glu.kernel import glu_triton

    shape = (8192, 11008)
    gate, up = (torch.randn(*shape, device="cuda", dtype=DT, requires_grad=True) for _ in range(2))
    dy = torch.randn(*shape, device="cuda", dtype=DT)
    eager = lambda g, u: F.silu(g) * u  # noqa: E731
    lg = liger("liger_kernel.ops.swiglu:LigerSiLUMulFunction")
    impls = {"caramba": lambda g, u: glu_triton(g, u, "silu"), "eager": eager,
             "torch.compile": torch.compile(eager), "liger": (lambda g, u: lg.apply(g, u)) if not isinstance(lg, str) else lg}
    n = gate.numel()

    def forward(fn):
        def go():
            with torch.no_grad():
                return fn(gate, up)
        return go

    return run_impls("glu", impls, forward, lambda fn: lambda: torch.autograd.grad(fn(gate, up), (gate, up), dy),
                     3 * n * 2, 8 * n * 2)
