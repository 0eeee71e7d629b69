"""``sdpa`` table: causal attention fwd+bwd through each SDPA backend PyTorch offers, bf16.

Two shapes: GPT-2 124M's (batch 16, 12 heads, T 1024, head width 64: the attention of
``benchmarks/gpt2_h100.py``) and the issue's reference (batch 1, 32 heads, T 4096, width 128).
Each backend is forced with ``torch.nn.attention.sdpa_kernel``; "default" is what SDPA picks
by itself. TFLOP/s count the causal half of 4·B·H·T²·D forward and 2.5× that fwd+bwd
(FlashAttention's convention), so they compare with the cuDNN/flash numbers of issue 20.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from runner import DT, ms

SHAPES = {"sdpa gpt2": (16, 12, 1024, 64), "sdpa d128": (1, 32, 4096, 128)}


def rows() -> list[dict[str, object]]:
    """Every backend at both shapes; a backend that refuses the inputs gets an error row."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backends = {"default": None, "cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
                "efficient": SDPBackend.EFFICIENT_ATTENTION}
    out: list[dict[str, object]] = []
    for op, (b, h, t, d) in SHAPES.items():
        q, k, v = (torch.randn(b, h, t, d, device="cuda", dtype=DT, requires_grad=True) for _ in range(3))
        dy = torch.randn(b, h, t, d, device="cuda", dtype=DT)
        fwd_flops = 4 * b * h * t * t * d / 2
        for impl, backend in backends.items():
            def attend() -> torch.Tensor:
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)

            def both() -> object:
                return torch.autograd.grad(attend(), (q, k, v), dy)

            try:
                with sdpa_kernel([backend]) if backend is not None else contextlib.nullcontext():
                    with torch.no_grad():
                        f = ms(attend)
                    fb = ms(both)
                out.append({"op": op, "impl": impl, "fwd ms": f, "fwd TB/s": fwd_flops / f / 1e9, "fwd+bwd ms": fb,
                            "fwd+bwd TB/s": 3.5 * fwd_flops / fb / 1e9, "peak GiB": float("nan")})
            except Exception as exc:  # a backend refusing these inputs must not hide the others
                out.append({"op": op, "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return out
