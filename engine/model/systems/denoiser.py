"""``system.denoiser``: ``DiffusionModel``, an ε-prediction denoiser over vectors (Ho et
al., 2020, "Denoising Diffusion Probabilistic Models").

    h = W_in x_t + MLP(sinusoidal(t))        timestep conditioning added to the input
    ε̂ = topology(h)                           ending with a DenoisingHeadLayer

Sinusoidal time features: [cos(t·f_i), sin(t·f_i)], f_i = 10000^(−i/(d/2)).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


def timestep_features(t: Tensor, dim: int) -> Tensor:
    """(B,) integer or float timesteps → (B, dim) sinusoidal features."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


class DiffusionModel(nn.Module):
    """(x_t (B, d_data), t (B,)) → predicted noise (B, d_data)."""

    def __init__(self, topology: nn.Module, d_data: int, d_model: int) -> None:
        super().__init__()
        self.d_data, self.d_model = d_data, d_model
        self.in_proj = nn.Linear(d_data, d_model)
        self.time = nn.Sequential(nn.Linear(d_model, d_model), nn.SiLU(), nn.Linear(d_model, d_model))
        self.topology = topology

    def example_inputs(self, batch_size: int, seq_len: int) -> tuple[Tensor, ...]:
        """Noisy vectors and timesteps for the dry run."""
        return torch.zeros(batch_size, self.d_data), torch.zeros(batch_size, dtype=torch.long)

    def forward(self, x_t: Tensor, t: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, d_data), (B,) → (B, d_data)."""
        h = self.in_proj(x_t) + self.time(timestep_features(t, self.d_model).to(x_t.dtype))
        return self.topology(h, ctx)


def build_denoiser(model: nn.Module) -> nn.Module:
    """A denoiser system is its network."""
    return model
