"""``rope`` table: q (4, 32, 4096, 128) + k (4, 8, 4096, 128) bf16, the layers' transposed views.

The caramba forward rotates in place without autograd (inference) and through the
out-of-place custom op with it, so forward (no grad) and backward (graph retained) are
timed apart and summed.
"""

from __future__ import annotations

import torch
from runner import DT, liger, ms, peak


def rows() -> list[dict[str, object]]:
    """RoPE of q (4, 32, 4096, 128) and k (4, 8, 4096, 128); in-place forward timed apart from the backward."""
    from caramba.engine.model.layers.rope import apply_rope, inverse_frequencies
    from caramba.kernels.rope import tables
    from caramba.kernels.rope.kernel import rope_triton, rotate

    b, h, h_kv, t, d = 4, 32, 8, 4096, 128
    q = torch.randn(b, t, h, d, device="cuda", dtype=DT).transpose(1, 2)  # the layers' transposed views
    k = torch.randn(b, t, h_kv, d, device="cuda", dtype=DT).transpose(1, 2)
    cos, sin = tables(inverse_frequencies(d, 500000.0), 0, t, torch.device("cuda"))
    cos_full, sin_full = torch.cat([cos, cos], -1).to(DT), torch.cat([sin, sin], -1).to(DT)
    dq, dk = torch.randn_like(q), torch.randn_like(k)

    def eager(q, k):
        return apply_rope(q, cos_full, sin_full), apply_rope(k, cos_full, sin_full)

    def ours(q, k):
        if not torch.is_grad_enabled():
            return rotate(q, q, cos, sin), rotate(k, k, cos, sin)
        return rope_triton(q, cos, sin), rope_triton(k, cos, sin)

    lg = liger("liger_kernel.ops.rope:LigerRopeFunction")
    impls = {"caramba": ours, "eager": eager, "torch.compile": torch.compile(eager),
             "liger": (lambda q, k: lg.apply(q, k, cos_full, sin_full)) if not isinstance(lg, str) else lg}
    rows: list[dict[str, object]] = []
    moved = (q.numel() + k.numel()) * 2
    for impl, fn in impls.items():
        if isinstance(fn, str):
            rows.append({"op": "rope", "impl": impl, "error": fn})
            continue
        try:
            def forward() -> object:
                with torch.no_grad():
                    return fn(q, k)
            f = ms(forward)
            q2, k2 = q.detach().clone().requires_grad_(), k.detach().clone().requires_grad_()
            outs = fn(q2 * 1, k2 * 1)
            backward = lambda: torch.autograd.grad(outs, (q2, k2), (dq, dk), retain_graph=True)  # noqa: E731
            bwd = ms(backward)
            rows.append({"op": "rope", "impl": impl, "fwd ms": f, "fwd TB/s": 2 * moved / f / 1e9, "fwd+bwd ms": f + bwd,
                         "fwd+bwd TB/s": 4 * moved / (f + bwd) / 1e9, "peak GiB": peak(backward)})
        except Exception as exc:  # one implementation failing must not hide the others' numbers
            rows.append({"op": "rope", "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return rows
