"""``SSMLayer``: the Mamba block (Gu & Dao, 2023, "Mamba: Linear-Time Sequence Modeling
with Selective State Spaces").

    (u, z) = in_proj(x)                              (B, T, d_inner) each, d_inner = expand·d_model
    u = silu(causal_depthwise_conv(u))               width d_conv
    Δ = softplus(dt_proj(x_proj_Δ(u)))               (B, T, d_inner), input-dependent step
    B_t, C_t = x_proj_B(u), x_proj_C(u)              (B, T, N)
    h_t = exp(Δ_t A) ⊙ h_{t−1} + Δ_t B_t u_t         (B, d_inner, N), A = −exp(A_log) (S4D-real init)
    y_t = C_t · h_t + D ⊙ u_t
    out = out_proj(y ⊙ silu(z))

The scan runs in parallel (``scan.linear_scan``). When ``ctx.state`` is a dict (the
``RecurrentTopology`` provides one), the conv tail and the last h are carried across calls,
so processing a sequence in chunks equals processing it whole.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext
from caramba.engine.model.layers.scan import linear_scan


class SSMLayer(nn.Module):
    """Mamba selective state-space block (module docstring)."""

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2, dt_rank: int | str = "auto",
                 dt_min: float = 0.001, dt_max: float = 0.1, dt_init_floor: float = 1e-4, bias: bool = False) -> None:
        super().__init__()
        d_inner = expand * d_model
        rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.d_inner, self.d_state, self.d_conv, self.dt_rank = d_inner, d_state, d_conv, rank
        self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=bias)
        self.conv = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner)
        self.x_proj = nn.Linear(d_inner, rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(rank, d_inner)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(d_inner, 1))
        self.D = nn.Parameter(torch.ones(d_inner))
        self.out_proj = nn.Linear(d_inner, d_model, bias=bias)
        self._init_dt(dt_min, dt_max, dt_init_floor)

    def residual_outputs(self) -> list[nn.Parameter]:
        """The output projection writes into the residual stream (scaled by the gpt2 init)."""
        return [self.out_proj.weight]

    def fixed_init_parameters(self) -> list[nn.Parameter]:
        """Mamba's Δ projection (log-uniform step sizes) keeps its own init."""
        return [self.dt_proj.weight, self.dt_proj.bias]

    def _init_dt(self, dt_min: float, dt_max: float, floor: float) -> None:
        """Δ = softplus(bias) starts log-uniform in [dt_min, dt_max] (Mamba's dt init)."""
        nn.init.uniform_(self.dt_proj.weight, -self.dt_rank ** -0.5, self.dt_rank ** -0.5)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)).clamp(min=floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(B, T, d_model) → (B, T, d_model)."""
        carried = ctx is not None and isinstance(ctx.state, dict)
        tail, h0 = ctx.state.get(id(self), (None, None)) if carried else (None, None)  # type: ignore[union-attr]
        u, z = self.in_proj(x).chunk(2, dim=-1)
        if tail is None:
            tail = u.new_zeros(u.shape[0], self.d_conv - 1, self.d_inner)
        padded = torch.cat([tail, u], dim=1)  # (B, d_conv−1+T, d_inner)
        u = nn.functional.silu(self.conv(padded.transpose(1, 2)).transpose(1, 2))
        dt, b_in, c_out = self.x_proj(u).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = nn.functional.softplus(self.dt_proj(dt))  # (B, T, d_inner)
        a = torch.exp(dt.unsqueeze(-1) * -torch.exp(self.A_log.float()).to(u.dtype))  # (B, T, d_inner, N)
        b = (dt * u).unsqueeze(-1) * b_in.unsqueeze(2)  # (B, T, d_inner, N)
        h = linear_scan(a, b, h0)
        y = (h * c_out.unsqueeze(2)).sum(-1) + self.D * u
        if carried:
            ctx.state[id(self)] = (padded[:, padded.shape[1] - (self.d_conv - 1):], h[:, -1])  # type: ignore[union-attr]
        return self.out_proj(y * nn.functional.silu(z))
