"""Manifest variants: a parent's YAML with a persona's changes, and the manifests that train it.

A persona proposes a variant as ``changes``: dotted paths into the parent manifest
(``vars.lr``, ``targets.0.runs.0.train.batch_size``; list items by index) mapped to their
new values. :func:`apply_changes` writes them into a copy of the parent's document; a
path that does not exist yet is created, so a misspelt key reaches the validator, which
names it with a did-you-mean instead of the change being dropped.

A node's manifest is trained twice, both derived here: the **pilot** (:func:`pilot_document`:
the chosen target's first run, the first seed, a fraction of its steps) and the **full
runs** (:func:`full_document`: that run with the goal's seeds as a seed list, one run per
seed). Every other target is dropped, so a run's id depends only on what it trains.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml


class ChangeError(ValueError):
    """A change that cannot be applied (a path through a scalar, a list index out of range)."""


def apply_changes(parent: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``parent`` with each dotted path of ``changes`` set to its value (module docstring)."""
    child = copy.deepcopy(parent)
    for path, value in changes.items():
        parts = [p for p in str(path).split(".") if p]
        if not parts:
            raise ChangeError(f"empty change path {path!r}: use dotted keys such as vars.lr")
        node: Any = child
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ChangeError(f"{path}: {'.'.join(parts[:i]) or 'the manifest'} is a list of {len(node)} items; "
                                      f"{part!r} is not an index of it")
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise ChangeError(f"{path}: {'.'.join(parts[:i])} is a value ({node!r}), not a mapping or list")
    return child


def _only_target(document: dict[str, Any], target: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of ``document`` keeping only ``target`` (entrypoints pointed at it), and that target."""
    doc = copy.deepcopy(document)
    chosen = next(t for t in doc["targets"] if t.get("name") == target)
    doc["targets"] = [chosen]
    doc["entrypoints"] = {"default": target}
    doc.pop("comparison", None)
    return doc, chosen


def pilot_document(document: dict[str, Any], target: str, steps: int, seed: int = 0) -> dict[str, Any]:
    """The pilot: the target's first run, one seed, ``steps`` steps (module docstring)."""
    doc, chosen = _only_target(document, target)
    run = dict(chosen["runs"][0], id="pilot", seed=seed, steps=steps)
    chosen["runs"] = [run]
    return doc


def full_document(document: dict[str, Any], target: str, seeds: int) -> dict[str, Any]:
    """The full runs: the target's first run once per seed ``0 … seeds-1`` (module docstring)."""
    doc, chosen = _only_target(document, target)
    run = dict(chosen["runs"][0], id="full", seed=list(range(seeds)))
    chosen["runs"] = [run]
    return doc


def dump(document: dict[str, Any]) -> str:
    """YAML text of a document (key order kept)."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
