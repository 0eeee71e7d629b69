"""Parameter selection: freezing by regex and ``param_groups`` with their own lr / weight decay.

Every regex must match at least one parameter name (a pattern that matches nothing is
almost always a typo, so it is an error listing a few real names). A parameter joins
the first ``param_groups`` entry whose pattern matches (``re.search``); the rest form
the default group. Weight decay follows the GPT-2/nanoGPT recipe: it applies to the
weight matrices of projections only — never to biases, norm gains or embedding tables
(``nn.Embedding`` weights and what layers declare in ``embedding_parameters()``, so a
head tied to the embedding is not decayed either) — unless asked: a ``param_groups``
entry that sets ``weight_decay`` applies it to every parameter it matches.
"""

from __future__ import annotations

import re
from typing import Any

from torch import nn

from caramba.engine.manifest.train import TrainConfig
from caramba.engine.model.init import embedding_parameters


def _unmatched(pattern: str, names: list[str], what: str) -> ValueError:
    sample = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
    return ValueError(f"train.{what} pattern {pattern!r} matches no parameter; names look like: {sample}")


def freeze(model: nn.Module, patterns: list[str]) -> int:
    """Set ``requires_grad=False`` on parameters matching any pattern; return how many were frozen."""
    names = [n for n, _ in model.named_parameters()]
    frozen = 0
    for pattern in patterns:
        regex = re.compile(pattern)
        hits = [(n, p) for n, p in model.named_parameters() if regex.search(n)]
        if not hits:
            raise _unmatched(pattern, names, "freeze")
        for _, param in hits:
            frozen += int(param.requires_grad)
            param.requires_grad_(False)
    return frozen


def param_groups(model: nn.Module, train: TrainConfig) -> list[dict[str, Any]]:
    """Optimiser groups of the trainable parameters (each carries ``base_lr`` for the schedule)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("every parameter is frozen (train.freeze); nothing to train")
    buckets: dict[tuple[int, bool], list[nn.Parameter]] = {}
    regexes = [re.compile(g.pattern) for g in train.param_groups]
    used = [False] * len(regexes)
    embeddings = {id(p) for p in embedding_parameters(model)}
    for name, param in named:
        index = next((i for i, r in enumerate(regexes) if r.search(name)), -1)
        if index >= 0:
            used[index] = True
        asked = index >= 0 and train.param_groups[index].weight_decay is not None
        buckets.setdefault((index, asked or (param.ndim >= 2 and id(param) not in embeddings)), []).append(param)
    for config, was_used in zip(train.param_groups, used):
        if not was_used:
            raise _unmatched(config.pattern, [n for n, _ in named], "param_groups")
    groups = []
    for (index, decays), params in sorted(buckets.items(), key=lambda kv: kv[0]):
        config = train.param_groups[index] if index >= 0 else None
        lr = config.lr if config is not None and config.lr is not None else train.lr
        wd = config.weight_decay if config is not None and config.weight_decay is not None else train.weight_decay
        groups.append({"params": params, "lr": lr, "base_lr": lr, "weight_decay": wd if decays else 0.0})
    return groups
