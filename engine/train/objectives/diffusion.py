"""``objective.diffusion``: DDPM ε-prediction (Ho et al., 2020, "Denoising Diffusion
Probabilistic Models", Algorithm 1).

    t ~ U{0 … T−1},  ε ~ N(0, I),  x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε,  loss = mean ‖ε − ε̂(x_t, t)‖²

with ᾱ_t = Π_{s≤t} (1 − β_s); β linear in [beta_start, beta_end], or the cosine schedule
ᾱ_t = cos²(((t+1)/T + s)/(1 + s) · π/2) / cos²(s/(1+s) · π/2), s = 0.008 (Nichol &
Dhariwal, 2021). t and ε come from torch's global generator, which the trainer seeds.
The batch's ``inputs`` are the clean data x₀ (B, d).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.train.objective import ObjectiveResult
from caramba.engine.train.objectives.classification import with_aux


def alpha_bars(n_timesteps: int, schedule: str, beta_start: float, beta_end: float) -> Tensor:
    """ᾱ_t for t = 0 … T−1 (float64)."""
    if schedule == "linear":
        return torch.cumprod(1 - torch.linspace(beta_start, beta_end, n_timesteps, dtype=torch.float64), 0)
    if schedule == "cosine":
        s, t = 0.008, torch.arange(n_timesteps + 1, dtype=torch.float64) / n_timesteps
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        return (f[1:] / f[0]).clamp(min=1e-8)
    raise ValueError(f"unknown diffusion schedule {schedule!r}; use linear or cosine")


class DiffusionObjective:
    """ε-prediction MSE at a uniformly drawn timestep per example."""

    def __init__(self, n_timesteps: int = 1000, schedule: str = "linear", beta_start: float = 1e-4, beta_end: float = 0.02,
                 aux_weight: float = 0.01) -> None:
        self.n_timesteps, self.aux_weight = n_timesteps, aux_weight
        self.alpha_bar = alpha_bars(n_timesteps, schedule, beta_start, beta_end)

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> ObjectiveResult:
        """Noise ``inputs`` (x₀) to a random t and score the predicted noise."""
        x0 = batch["inputs"]
        t = torch.randint(0, self.n_timesteps, (x0.shape[0],)).to(x0.device)
        noise = torch.randn_like(x0)
        a = self.alpha_bar.to(x0.device)[t].to(x0.dtype).view(-1, *([1] * (x0.dim() - 1)))
        ctx = ForwardContext()
        pred = model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, ctx).float()
        mse = F.mse_loss(pred, noise.float())
        metrics: dict[str, float | Tensor] = {"mse": mse.detach()}
        return ObjectiveResult(loss=with_aux(mse, ctx, self.aux_weight, metrics), metrics=metrics, count=x0.shape[0])
