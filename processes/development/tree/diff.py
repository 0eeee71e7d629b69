"""What changed between two manifests: ``diff_manifests(parent, child)`` and its one-line ``describe``.

Manifests are compared as parsed YAML (dicts, lists, scalars), recursively:

* a key in both dicts recurses; a key only in the child is ``added``, only in the parent
  ``removed`` (order: the parent's keys as written, then the child's new keys);
* two lists recurse index by index; a longer child adds its extra items, a shorter one
  removes the parent's (``model.layers.3``);
* anything else that differs (a scalar, or a value whose type changed) is one ``changed``.

So the diff is deterministic for given inputs, and ``describe`` reads like
``model.layers.0.n_heads: 4 -> 8; train.lr: 0.003 -> 0.001``.
"""

from __future__ import annotations

import json
from typing import Any

from caramba.processes.development.tree.model import Change

ABSENT = "(absent)"


def diff_manifests(parent: dict[str, Any], child: dict[str, Any]) -> list[Change]:
    """Every change from ``parent`` to ``child`` as dotted paths (module docstring)."""
    changes: list[Change] = []
    _walk(parent, child, "", changes)
    return changes


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _walk(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            where = _join(path, key)
            if key not in new:
                out.append(Change(path=where, old=old[key], new=None, kind="removed"))
            elif key not in old:
                out.append(Change(path=where, old=None, new=new[key], kind="added"))
            else:
                _walk(old[key], new[key], where, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            where = _join(path, index)
            if index >= len(new):
                out.append(Change(path=where, old=old[index], new=None, kind="removed"))
            elif index >= len(old):
                out.append(Change(path=where, old=None, new=new[index], kind="added"))
            else:
                _walk(old[index], new[index], where, out)
        return
    if old != new or type(old) is not type(new) and not _same_number(old, new):
        out.append(Change(path=path or "(root)", old=old, new=new, kind="changed"))


def _same_number(a: Any, b: Any) -> bool:
    """1 and 1.0 are the same manifest value; True and 1 are not."""
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool)
            and not isinstance(b, bool) and a == b)


def show(value: Any, width: int = 40) -> str:
    """A value as it would read in YAML flow style, shortened to ``width`` characters."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        text = json.dumps(value, separators=(", ", ": "), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_change(change: Change, width: int = 40) -> str:
    """One change as ``path: old -> new`` (``(absent)`` for a side that lacks the path)."""
    old = ABSENT if change.kind == "added" else show(change.old, width)
    new = ABSENT if change.kind == "removed" else show(change.new, width)
    return f"{change.path}: {old} -> {new}"


def describe(changes: list[Change], width: int = 40) -> str:
    """All changes on one line, joined by ``; `` (``no change`` for an empty diff)."""
    return "; ".join(describe_change(c, width) for c in changes) or "no change"


def short(changes: list[Change], width: int = 22) -> str:
    """A drawing's label of a diff: the first change's last key and ``old→new`` (``n_heads 4→8``), ``+k`` more."""
    if not changes:
        return "start"
    first = changes[0]
    key = next((p for p in reversed(first.path.split(".")) if not p.isdigit()), first.path)
    old = "∅" if first.kind == "added" else _compact(first.old)
    new = "∅" if first.kind == "removed" else _compact(first.new)
    text = f"{key} {old}→{new}"
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text + (f" +{len(changes) - 1}" if len(changes) > 1 else "")


def _compact(value: Any) -> str:
    """A value in a few characters: floats to 4 significant digits, containers as ``{…}``/``[…]``."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list):
        return "[…]"
    return show(value, 10)


def apply_changes(manifest: dict[str, Any], changes: list[Change]) -> dict[str, Any]:
    """A copy of ``manifest`` with ``changes`` applied (the inverse of :func:`diff_manifests`).

    ``changed`` and ``added`` set the path's value, ``removed`` deletes it; list indices are
    numbers in the path. A path that does not fit the manifest is a ``KeyError`` naming it.
    Removals run last and from the highest list index down, so indices stay valid.
    """
    import copy

    out = copy.deepcopy(manifest)
    ordered = [c for c in changes if c.kind != "removed"] + sorted(
        (c for c in changes if c.kind == "removed"), key=lambda c: [int(p) if p.isdigit() else -1 for p in c.path.split(".")],
        reverse=True)
    for change in ordered:
        *parents, last = change.path.split(".")
        node: Any = out
        for part in parents:
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError):
                raise KeyError(f"{change.path}: {part!r} is not in the manifest") from None
        key: Any = int(last) if isinstance(node, list) else last
        if change.kind == "removed":
            del node[key]
        elif isinstance(node, list) and key == len(node):
            node.append(copy.deepcopy(change.new))
        else:
            node[key] = copy.deepcopy(change.new)
    return out
