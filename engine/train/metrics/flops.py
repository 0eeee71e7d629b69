"""Model FLOPs utilisation (MFU): achieved model FLOPs per second over the device's peak.

FLOPs per trained token follow the PaLM/nanoGPT estimate (Chowdhery et al., 2022,
appendix B): ``6·N`` for the matmul parameters ``N`` (forward 2·N, backward 4·N; every
``nn.Linear`` weight, counted once when tied) plus ``12·H·d_head·T`` per attention layer
for the score and value products at context ``T``. Embedding lookups cost nothing.
Peaks are dense bf16/fp16 tensor-core numbers from vendor datasheets; MFU is left empty
(``None``) where the peak is not known (CPUs, fp32, unlisted GPUs) rather than guessed.
"""

from __future__ import annotations

import torch
from torch import nn

# device-name substring → dense bf16/fp16 peak FLOP/s
PEAK_BF16: dict[str, float] = {
    "H200": 989e12, "H100": 989e12, "GH200": 989e12, "B200": 2250e12, "A100": 312e12,
    "L40S": 362e12, "L4": 121e12, "A10G": 70e12, "RTX 4090": 165e12, "RTX 3090": 71e12,
}


def flops_per_token(model: nn.Module, context: int) -> float:
    """Training FLOPs per token of ``model`` at sequence length ``context`` (see the module docstring)."""
    weights = {id(m.weight): m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear)}
    attention = sum(12 * m.n_heads * m.head_dim * context for m in model.modules()
                    if hasattr(m, "n_heads") and hasattr(m, "head_dim"))
    return 6.0 * sum(weights.values()) + float(attention)


def device_peak(device: torch.device, dtype: torch.dtype) -> float | None:
    """Dense peak FLOP/s of ``device`` in ``dtype``, or None when unknown."""
    if device.type != "cuda" or dtype not in (torch.bfloat16, torch.float16):
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16.items() if key in name), None)
