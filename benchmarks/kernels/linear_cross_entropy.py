"""``linear_cross_entropy`` table: 8192 tokens × 2048 → 128,256 vocab, fwd+bwd, TFLOP/s at 6·N·D·V."""

from __future__ import annotations

import torch
from runner import DT, first, liger, ms, peak


def rows(chunks: list[int]) -> list[dict[str, object]]:
    """8192 tokens × 2048 → 128,256 vocab, forward+backward; TFLOP/s at 6·N·D·V."""
    from caramba.kernels.linear_cross_entropy import linear_cross_entropy_torch
    from caramba.kernels.linear_cross_entropy.kernel import LinearCrossEntropyFunction

    n, d, v = 8192, 2048, 128256
    h = torch.randn(n, d, device="cuda", dtype=DT, requires_grad=True)
    w = (torch.randn(v, d, device="cuda", dtype=DT) * 0.02).requires_grad_()
    targets = torch.randint(0, v, (n,), device="cuda")
    impls: dict[str, object] = {f"caramba chunk={c or 'auto'}": (lambda c: lambda h, w: LinearCrossEntropyFunction.apply(
        h, w, targets, -100, 0.0, 0.0, c or None))(c) for c in chunks}
    eager = lambda h, w: linear_cross_entropy_torch(h, w, targets)  # noqa: E731
    impls["eager"] = eager
    impls["torch.compile"] = torch.compile(eager)
    lg = liger("liger_kernel.ops.fused_linear_cross_entropy:LigerFusedLinearCrossEntropyFunction")
    impls["liger"] = (lambda h, w: first(lg.apply(h, w, targets))) if not isinstance(lg, str) else lg
    flops = 6 * n * d * v
    rows: list[dict[str, object]] = []
    ref = None
    for impl, fn in impls.items():
        if isinstance(fn, str):
            rows.append({"op": "linear_cross_entropy", "impl": impl, "error": fn})
            continue
        try:
            both = lambda: torch.autograd.grad(fn(h, w), (h, w))  # noqa: E731
            loss = float(fn(h, w))
            ref = loss if ref is None else ref
            t = ms(both)
            rows.append({"op": "linear_cross_entropy", "impl": impl, "fwd ms": float("nan"), "fwd TB/s": float("nan"),
                         "fwd+bwd ms": t, "fwd+bwd TB/s": flops / t / 1e9, "peak GiB": peak(both), "loss": loss})
        except Exception as exc:  # one implementation failing must not hide the others' numbers
            rows.append({"op": "linear_cross_entropy", "impl": impl,
                         "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return rows
