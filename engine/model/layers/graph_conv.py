"""``GraphConvLayer``: message passing over ``ctx.edge_index`` (2, E), edges source → target.

* ``gcn`` (Kipf & Welling, 2017): H' = D̂^(−1/2) Â D̂^(−1/2) H W + b, Â = A + I (self
  loops), D̂ the row sums of Â; computed edge-wise: out_i = Σ_{j→i} (d_i d_j)^(−1/2) (HW)_j.
* ``gat`` (Veličković et al., 2018): per head, e_ij = LeakyReLU(a_dstᵀ W h_i + a_srcᵀ W h_j)
  for every edge j → i and the self loop, α_ij = softmax over i's incoming edges,
  h'_i = Σ_j α_ij W h_j; heads are concatenated.

Shapes: x (N, d_in) node features → (N, d_out). Edge-wise scatter (``index_add_``,
``scatter_reduce``) keeps memory O(E), not O(N²).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext


def with_self_loops(edge_index: Tensor, n_nodes: int) -> tuple[Tensor, Tensor]:
    """(src, dst) with one self loop per node appended."""
    loops = torch.arange(n_nodes, device=edge_index.device)
    return torch.cat([edge_index[0], loops]), torch.cat([edge_index[1], loops])


class GraphConvLayer(nn.Module):
    """GCN or GAT convolution (module docstring)."""

    def __init__(self, d_in: int, d_out: int, mode: str = "gcn", n_heads: int = 1, negative_slope: float = 0.2, bias: bool = True) -> None:
        super().__init__()
        if mode not in ("gcn", "gat"):
            raise ValueError(f"unknown GraphConvLayer mode {mode!r}; use gcn or gat")
        self.mode, self.n_heads, self.head_dim, self.slope = mode, n_heads, d_out // n_heads, negative_slope
        self.weight = nn.Linear(d_in, d_out, bias=False)
        self.bias = nn.Parameter(torch.zeros(d_out)) if bias else None
        if mode == "gat":
            self.att_src = nn.Parameter(torch.randn(n_heads, self.head_dim) * self.head_dim ** -0.5)
            self.att_dst = nn.Parameter(torch.randn(n_heads, self.head_dim) * self.head_dim ** -0.5)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(N, d_in) → (N, d_out) over the graph in ``ctx.edge_index``."""
        if ctx is None or ctx.edge_index is None:
            raise ValueError("GraphConvLayer needs the graph: pass a ForwardContext with edge_index (2, E)")
        src, dst = with_self_loops(ctx.edge_index, x.shape[0])
        hw = self.weight(x)
        out = self._gcn(hw, src, dst) if self.mode == "gcn" else self._gat(hw, src, dst)
        return out if self.bias is None else out + self.bias

    def _gcn(self, hw: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        deg = torch.zeros(hw.shape[0], dtype=hw.dtype, device=hw.device).index_add_(0, dst, torch.ones_like(dst, dtype=hw.dtype))
        norm = (deg[dst] * deg[src]).rsqrt()
        return torch.zeros_like(hw).index_add_(0, dst, hw[src] * norm[:, None])

    def _gat(self, hw: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        n = hw.shape[0]
        h = hw.view(n, self.n_heads, self.head_dim)
        score = nn.functional.leaky_relu((h * self.att_dst).sum(-1)[dst] + (h * self.att_src).sum(-1)[src], self.slope)  # (E, H)
        top = torch.full((n, self.n_heads), float("-inf"), dtype=hw.dtype, device=hw.device)
        top = top.scatter_reduce(0, dst[:, None].expand_as(score), score, "amax", include_self=True)
        weight = torch.exp(score - top[dst])
        denom = torch.zeros(n, self.n_heads, dtype=hw.dtype, device=hw.device).index_add_(0, dst, weight)
        alpha = weight / denom[dst]  # (E, H)
        out = torch.zeros_like(h).index_add_(0, dst, h[src] * alpha[..., None])
        return out.reshape(n, -1)
