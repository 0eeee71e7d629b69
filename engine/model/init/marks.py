"""What layers declare about their parameters, collected over a module tree.

Layers mark their own parameters through optional methods (no name matching):

* ``residual_outputs() -> list[nn.Parameter]``: the weights that write the layer's output
  into the residual stream when the layer ends a residual branch (attention's output
  projection, an MLP's down projection, every expert's down projection in an MoE);
* ``fixed_init_parameters() -> list[nn.Parameter]``: parameters whose initialisation is part
  of the layer's definition and that no scheme may redraw (a zero-initialised gate);
* ``embedding_parameters() -> list[nn.Parameter]``: lookup tables that are not
  ``nn.Embedding`` (learned position tables, class tokens), exempt from weight decay.
"""

from __future__ import annotations

from torch import nn


def _branch_outputs(module: nn.Module) -> list[nn.Parameter]:
    """Residual outputs of the layers inside one residual branch (not inside nested residuals)."""
    from caramba.engine.model.topologies.residual import ResidualTopology

    if hasattr(module, "residual_outputs"):
        return list(module.residual_outputs())
    found: list[nn.Parameter] = []
    for child in module.children():
        if not isinstance(child, ResidualTopology):
            found += _branch_outputs(child)
    return found


def residual_outputs(model: nn.Module) -> tuple[list[nn.Parameter], int]:
    """(residual-output weights, number of residual branches that hold any) over ``model``."""
    from caramba.engine.model.topologies.residual import ResidualTopology

    params: list[nn.Parameter] = []
    branches = 0
    for module in model.modules():
        if isinstance(module, ResidualTopology):
            found = [p for layer in module.layers for p in _branch_outputs(layer)]
            branches += bool(found)
            params += found
    return params, branches


def fixed_init_parameters(model: nn.Module) -> set[int]:
    """Ids of the parameters whose initialisation a layer fixes (kept by every scheme)."""
    return {id(p) for m in model.modules() if hasattr(m, "fixed_init_parameters") for p in m.fixed_init_parameters()}


def embedding_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Every embedding table: ``nn.Embedding`` weights and what layers declare as embeddings."""
    params: dict[int, nn.Parameter] = {}
    for module in model.modules():
        if isinstance(module, nn.Embedding):
            params[id(module.weight)] = module.weight
        if hasattr(module, "embedding_parameters"):
            params.update((id(p), p) for p in module.embedding_parameters())
    return list(params.values())
