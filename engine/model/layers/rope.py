"""Rotary position embedding (Su et al., 2021, "RoFormer") as its own op.

A head vector is split in two halves (x₁, x₂) and rotated pairwise by angle p·θᵢ with
θᵢ = base^(−2i/d): (x₁cos − x₂sin, x₂cos + x₁sin) — the "rotate-half" layout used by
Llama and Hugging Face, which equals multiplying the complex numbers x₁ + i·x₂ by
e^{i·p·θᵢ}. Optional frequency scaling for long contexts: ``linear`` (position
interpolation, Chen et al., 2023) or ``llama3`` (wavelength-dependent, Llama 3.1).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.rope_tables import RopeTables
from caramba.kernels.rope import rope, tables


def inverse_frequencies(head_dim: int, base: float, scaling: dict[str, Any] | None = None) -> Tensor:
    """θᵢ for i < head_dim/2, after the optional scaling rule (float32)."""
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    if scaling is None:
        return inv.float()
    factor = float(scaling["factor"])
    if scaling["type"] == "linear":
        return (inv / factor).float()
    low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
    original = float(scaling["original_max_position_embeddings"])
    wavelength = 2 * math.pi / inv
    low_wavelength, high_wavelength = original / low, original / high
    smooth = (original / wavelength - low) / (high - low)
    scaled = torch.where(wavelength > low_wavelength, inv / factor, inv)
    mid = (wavelength <= low_wavelength) & (wavelength >= high_wavelength)
    return torch.where(mid, (1 - smooth) * inv / factor + smooth * inv, scaled).float()


class Rope(nn.Module):
    """Computes cos/sin tables on the fly for the positions of a forward pass."""

    def __init__(self, head_dim: int, base: float = 10000.0, scaling: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.head_dim = head_dim
        self.settings = (head_dim, float(base), repr(sorted((scaling or {}).items())))  # what inv_freq is made of
        self.made_of = (head_dim, base, scaling)
        self.register_buffer("inv_freq", inverse_frequencies(head_dim, base, scaling), persistent=False)

    def _apply(self, fn: Any, recurse: bool = True) -> "Rope":
        """``Module.to``/``.half()``/``.bfloat16()`` move ``inv_freq`` but never lower it below float32.

        A model cast to bf16 (``precision: bf16`` parameters, a Hugging Face import in bf16)
        would otherwise round θᵢ to 8 mantissa bits: at position 16k the highest frequency's
        angle is then off by tens of radians from the exact rotation the weights were trained
        with. The exact float32 θᵢ are rebuilt from the settings, on the cast buffer's device;
        a cast to float64 keeps float64.
        """
        super()._apply(fn, recurse)
        if self.inv_freq.dtype not in (torch.float32, torch.float64):
            self.inv_freq = inverse_frequencies(*self.made_of).to(self.inv_freq.device)
        return self

    def tables(self, start: int | Tensor, length: int, device: torch.device) -> tuple[Tensor, Tensor]:
        """cos, sin of shape (length, head_dim) for positions start … start+length−1 (start: int or (1,) tensor)."""
        positions = torch.arange(length, device=device, dtype=torch.float32) + (
            start.float() if isinstance(start, Tensor) else start)
        angles = torch.outer(positions, self.inv_freq.to(device))
        angles = torch.cat([angles, angles], dim=-1)
        return angles.cos(), angles.sin()

    def angles(self, start: int | Tensor, length: int, device: torch.device,
               shared: RopeTables | None = None) -> tuple[Tensor, Tensor]:
        """cos, sin (length, head_dim/2) of ``kernels.rope.tables`` for positions start … start+length−1.

        ``shared``: the pass's ``RopeTables`` (``ForwardContext.rope_tables``): every layer with
        this Rope's settings (head_dim, base, scaling) gets the tables the first one built.
        """
        if shared is None:
            return tables(self.inv_freq, start, length, device)
        return shared.get(self, start, length, device)

    def pair(self, q: Tensor, k: Tensor, start: int | Tensor = 0,
             shared: RopeTables | None = None) -> tuple[Tensor, Tensor]:
        """Rotate q (B, H, T, hd) and k (B, H_kv, T, hd) through the ``rope`` dispatch.

        On CUDA with the Triton kernel chosen, q and k are rotated in place (attention
        layers never need them unrotated); a tied k (``k is q``) is rotated once. ``shared``:
        the pass's table memo (``angles``).
        """
        return rope(q, k, *self.angles(start, q.shape[-2], q.device, shared))

    def forward(self, x: Tensor, start: int | Tensor = 0) -> Tensor:
        """Rotate x of shape (B, H, T, head_dim) for positions start … start+T−1."""
        cos, sin = self.tables(start, x.shape[-2], x.device)
        return apply_rope(x, cos.to(x.dtype), sin.to(x.dtype))


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """x·cos + rotate_half(x)·sin, with rotate_half(x₁, x₂) = (−x₂, x₁)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class RopeLayer(nn.Module):
    """RoPE as a layer: x (B, T, d_model) viewed as ``n_heads`` slices, each rotated by
    position ``ctx.start_pos + t`` (shape-preserving, no parameters)."""

    def __init__(self, d_model: int, n_heads: int = 1, base: float = 10000.0, scaling: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.rope = Rope(d_model // n_heads, base, scaling)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T, d_model) → (B, T, d_model)."""
        b, t, d = x.shape
        heads = x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)
        return self.rope(heads, ctx.start_pos if ctx is not None else 0).transpose(1, 2).reshape(b, t, d)
