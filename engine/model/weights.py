"""Loading a state dict into a built model: strict or partial, with key renaming, tied aware.

:func:`load_weights` is what ``init_from`` and ``export-hf`` use. Tied parameters (a head
sharing the embedding table) appear under several names in ``state_dict()`` but are
stored once in safetensors files; a tied group counts as loaded when any of its names
is in the source. Strict loading (the default) requires every parameter and persistent
buffer to be loaded with its exact shape and no source key left over, and raises
:class:`WeightsMismatch` listing what differs; non-strict loading copies what matches
and returns the lists in a :class:`LoadReport`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn


class WeightsMismatch(ValueError):
    """Strict loading found missing, unexpected or mis-shaped keys (listed in the message)."""


@dataclass
class LoadReport:
    """What a load did: tensors copied, and the keys that did not match."""

    loaded: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    def summary(self, limit: int = 8) -> str:
        """One readable line: counts and the first keys of each list."""
        def head(keys: list[str]) -> str:
            return ", ".join(keys[:limit]) + (f" … (+{len(keys) - limit})" if len(keys) > limit else "")

        parts = [f"{self.loaded} tensors loaded"]
        for name, keys in (("missing", self.missing), ("unexpected", self.unexpected), ("shape mismatch", self.mismatched)):
            if keys:
                parts.append(f"{name} ({len(keys)}): {head(keys)}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        return {"loaded": self.loaded, "missing": self.missing, "unexpected": self.unexpected, "mismatched": self.mismatched}


def rename(state: dict[str, Tensor], key_map: dict[str, str]) -> dict[str, Tensor]:
    """Apply each ``pattern → replacement`` (``re.sub``, in order) to every key."""
    if not key_map:
        return dict(state)
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        for pattern, replacement in key_map.items():
            key = re.sub(pattern, replacement, key)
        out[key] = value
    return out


def _alias_groups(model: nn.Module) -> list[list[str]]:
    """State-dict names grouped by the tensor they name (tied weights share a group)."""
    groups: dict[int, list[str]] = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        groups.setdefault(id(tensor), []).append(name)
    return list(groups.values())


@torch.no_grad()
def load_weights(model: nn.Module, state: dict[str, Tensor], strict: bool = True,
                 key_map: dict[str, str] | None = None) -> LoadReport:
    """Copy ``state`` into ``model`` (see the module docstring); returns the report."""
    source = rename(state, key_map or {})
    targets = model.state_dict(keep_vars=True)
    report = LoadReport()
    used: set[str] = set()
    copies: list[tuple[Tensor, Tensor]] = []
    for names in _alias_groups(model):
        present = [n for n in names if n in source]
        used.update(present)
        if not present:
            report.missing.append(names[0])
            continue
        value, target = source[present[0]], targets[names[0]]
        if tuple(value.shape) != tuple(target.shape):
            report.mismatched.append(f"{present[0]} {tuple(value.shape)} ≠ {tuple(target.shape)}")
            continue
        copies.append((target, value))
    report.unexpected = sorted(k for k in source if k not in used)
    if strict and (report.missing or report.unexpected or report.mismatched):
        raise WeightsMismatch(f"the weights do not match the model: {report.summary()}; "
                              "fix the source or add init_from.key_map, or set init_from.strict: false to load what matches")
    for target, value in copies:  # only after the strict check: a refused load changes nothing
        target.copy_(value.to(dtype=target.dtype, device=target.device))
    report.loaded = len(copies)
    return report
