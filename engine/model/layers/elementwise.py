"""Elementwise layers: activations and dropout (shape-preserving, no parameters)."""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from caramba.engine.model.context import ForwardContext

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": nn.functional.relu,
    "gelu": nn.functional.gelu,
    "gelu_tanh": lambda x: nn.functional.gelu(x, approximate="tanh"),  # GPT-2's "gelu_new"
    "silu": nn.functional.silu,
    "tanh": Tensor.tanh,
    "sigmoid": Tensor.sigmoid,
}


def activation(name: str) -> Callable[[Tensor], Tensor]:
    """The activation function called ``name`` (see :data:`ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class ActivationLayer(nn.Module):
    """y = fn(x) elementwise."""

    def __init__(self, fn: str = "gelu") -> None:
        super().__init__()
        self.name = fn
        self.fn = activation(fn)

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…) → (…)."""
        return self.fn(x)

    def extra_repr(self) -> str:
        """The function's name, shown in the module's repr."""
        return self.name


class DropoutLayer(nn.Module):
    """Zero each element with probability p while training and scale the rest by 1/(1−p)
    (Srivastava et al., 2014); the identity in eval mode."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor, ctx: ForwardContext | None = None) -> Tensor:
        """(…) → (…)."""
        return nn.functional.dropout(x, self.p, self.training)
