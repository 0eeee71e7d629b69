"""The schemes' arithmetic (see the package docstring for the recipes)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from caramba.engine.model.init.marks import embedding_parameters, fixed_init_parameters, residual_outputs

SCHEMES = ("gpt2", "llama", "torch")


def describe(scheme: str, std: float, model: nn.Module | None = None) -> str:
    """One line saying what ``scheme`` does (with the residual std when ``model`` is given)."""
    if scheme == "torch":
        return "torch (PyTorch module defaults: nn.Linear Kaiming-uniform, nn.Embedding N(0, 1))"
    text = f"{scheme}: linear and embedding weights N(0, {std:g}), biases 0"
    if scheme == "gpt2":
        if model is not None:
            _, n = residual_outputs(model)
            text += f", residual outputs N(0, {std:g}/√{n} = {std / math.sqrt(max(n, 1)):.4g}) over {n} residual branches"
        else:
            text += ", residual outputs N(0, std/√(2·n_layers))"
    return text


@torch.no_grad()
def initialise(model: nn.Module, scheme: str, std: float = 0.02) -> dict[str, Any]:
    """Redraw ``model``'s weights under ``scheme`` (in place, from the current RNG state).

    Returns a summary: the scheme, std, the residual std and how many tensors were drawn."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    if scheme == "torch":
        return {"scheme": scheme, "tensors": 0}
    fixed = fixed_init_parameters(model)
    residual, branches = residual_outputs(model) if scheme == "gpt2" else ([], 0)
    residual_ids = {id(p) for p in residual}
    residual_std = std / math.sqrt(branches) if branches else std
    drawn: set[int] = set()

    def draw(param: nn.Parameter | None, value_std: float | None) -> None:
        if param is None or id(param) in fixed or id(param) in drawn:
            return
        drawn.add(id(param))
        if value_std is None:
            param.zero_()
        else:
            param.normal_(0.0, residual_std if id(param) in residual_ids else value_std)

    for module in model.modules():
        if isinstance(module, nn.Linear):
            draw(module.weight, std)
            draw(module.bias, None)
    for table in embedding_parameters(model):
        draw(table, std)
    return {"scheme": scheme, "std": std, "residual_std": residual_std, "residual_branches": branches, "tensors": len(drawn)}
