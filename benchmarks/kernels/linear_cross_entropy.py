"""``linear_cross_entropy`` tables, fwd+bwd, TFLOP/s at 6·N·D·V, at two shapes:

* the issue's: 8192 tokens × 2048 → 128,256 vocab (Llama-3 head);
* GPT-2 124M's training step: 16 × 1024 tokens × 768 → 50,304 (``benchmarks/gpt2_h100.py``),
  where the chunk size decides how often the weight gradient is read and written.
"""

from __future__ import annotations

import torch
from runner import DT, first, liger, ms, peak

SHAPES = {"linear_cross_entropy": (8192, 2048, 128256), "linear_cross_entropy gpt2": (16384, 768, 50304)}


def rows(chunks: list[int], gpt2_chunks: tuple[int, ...] = (0, 1024, 4096)) -> list[dict[str, object]]:
    """Both shapes' rows: caramba at each chunk size (0: the default rule), eager, torch.compile, Liger."""
    return [row for op, shape in SHAPES.items()
            for row in shape_rows(op, *shape, chunks if op == "linear_cross_entropy" else list(gpt2_chunks))]


def shape_rows(op: str, n: int, d: int, v: int, chunks: list[int]) -> list[dict[str, object]]:
    """n tokens × d → v vocabulary, forward+backward of every implementation on the same inputs."""
    from caramba.kernels.linear_cross_entropy import linear_cross_entropy_torch
    from caramba.kernels.linear_cross_entropy.kernel import default_chunk, linear_cross_entropy_triton

    h = torch.randn(n, d, device="cuda", dtype=DT, requires_grad=True)
    w = (torch.randn(v, d, device="cuda", dtype=DT) * 0.02).requires_grad_()
    targets = torch.randint(0, v, (n,), device="cuda")
    impls: dict[str, object] = {
        f"caramba chunk={c or f'auto ({default_chunk(n, v, d)})'}":
            (lambda c: lambda h, w: linear_cross_entropy_triton(h, w, targets, -100, 0.0, 0.0, c or None))(c)
        for c in chunks}
    eager = lambda h, w: linear_cross_entropy_torch(h, w, targets)  # noqa: E731
    impls["eager"] = eager
    impls["torch.compile"] = torch.compile(eager)
    lg = liger("liger_kernel.ops.fused_linear_cross_entropy:LigerFusedLinearCrossEntropyFunction")
    impls["liger"] = (lambda h, w: first(lg.apply(h, w, targets))) if not isinstance(lg, str) else lg
    flops = 6 * n * d * v
    rows: list[dict[str, object]] = []
    for impl, fn in impls.items():
        if isinstance(fn, str):
            rows.append({"op": op, "impl": impl, "error": fn})
            continue
        try:
            both = lambda: torch.autograd.grad(fn(h, w), (h, w))  # noqa: E731
            loss = float(fn(h, w).detach())
            t = ms(both)
            rows.append({"op": op, "impl": impl, "fwd ms": float("nan"), "fwd TB/s": float("nan"),
                         "fwd+bwd ms": t, "fwd+bwd TB/s": flops / t / 1e9, "peak GiB": peak(both), "loss": loss})
        except Exception as exc:  # one implementation failing must not hide the others' numbers
            rows.append({"op": op, "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
        torch.cuda.empty_cache()
    return rows
