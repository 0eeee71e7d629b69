"""Test helpers: float64 comparisons that print the differing elements, gradient coverage."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from caramba.engine.model.build import build
from caramba.engine.model.config.base import DimFlow
from caramba.engine.registry import catalog as _catalog  # noqa: F401  (fills the registry)
from caramba.engine.registry.unions import UNIONS


def assert_close(got: Tensor, want: Tensor, atol: float = 1e-10, rtol: float = 1e-8, what: str = "") -> None:
    """Fail with the worst differing elements listed (index, got, want)."""
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {tuple(got.shape)} != {tuple(want.shape)}")
    diff = (got - want).abs()
    bad = diff > atol + rtol * want.abs()
    if bad.any():
        idx = bad.nonzero()[:8]
        rows = "\n".join(f"  {tuple(i.tolist())}: got {got[tuple(i)].item():.10g} want {want[tuple(i)].item():.10g}" for i in idx)
        raise AssertionError(f"{what}: {int(bad.sum())} elements differ (max abs {diff.max().item():.3g}):\n{rows}")


def node(config: dict[str, Any]) -> Any:
    """Validate a layer/topology dict into its config."""
    from pydantic import TypeAdapter

    return TypeAdapter(UNIONS["NodeConfig"]).validate_python(config)


def issues(config: dict[str, Any], d_in: int | None) -> list[str]:
    """Dimension-flow messages of a layer/topology config (``path: message``)."""
    flow = DimFlow()
    node(config).infer(flow, d_in, "x")
    return [f"{i.path}: {i.message}" for i in flow.issues]


def built(config: dict[str, Any], dtype: torch.dtype = torch.float64) -> nn.Module:
    """Build the module of a config dict (float64 by default), seeded."""
    torch.manual_seed(0)
    return build(node(config)).to(dtype)


def assert_grads_reach(module: nn.Module, loss: Tensor) -> None:
    """Every trainable parameter gets a finite, non-zero gradient from ``loss``."""
    loss.backward()
    missing = [n for n, p in module.named_parameters() if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all()
                                                                              or p.grad.abs().sum() == 0)]
    if missing:
        raise AssertionError(f"no gradient reached: {missing}")
