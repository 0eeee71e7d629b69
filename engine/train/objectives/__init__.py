"""Objectives: how a batch and a model become a loss (the contract is ``engine/train/objective.py``).

Each objective lives in its own module and is registered in ``engine/registry/catalog.py``;
this package re-exports them so a registry target can say
``caramba.engine.train.objectives:NextTokenObjective``.
"""

from caramba.engine.train.objectives.next_token import NextTokenObjective

__all__ = ["NextTokenObjective"]
