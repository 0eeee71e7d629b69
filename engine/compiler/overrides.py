"""``--set a.b[0].c=value`` overrides, applied before variable substitution.

The value is parsed as YAML (``--set train.lr=3e-4`` is a float, ``--set x=[1,2]`` a list,
``--set name=abc`` a string). A missing final key is created (the schema then checks
it); a missing intermediate mapping is created; indexing past a list's end or into a
scalar is an error naming the override.
"""

from __future__ import annotations

from typing import Any

import yaml

from caramba.engine.compiler.errors import ManifestError, ManifestInvalid, format_path, parse_path
from caramba.engine.compiler.source import MAX_DEPTH, Document, Position, load_value

MAX_SET_CHARS = 100_000


def _bad(spec: str, message: str, hint: str) -> ManifestError:
    return ManifestError("syntax", "", f"--set {spec!r}: {message}", hint, "--set")


def apply_overrides(document: Document, specs: list[str]) -> None:
    """Apply every ``--set`` to ``document`` in place; collect all errors, then raise."""
    errors: list[ManifestError] = []
    for spec in specs:
        key, sep, raw = spec.partition("=")
        if not sep or not key.strip():
            errors.append(_bad(spec, "expected PATH=VALUE", "write --set targets[0].runs[0].train.lr=0.001"))
            continue
        try:
            path = parse_path(key.strip())
            value = _value(raw)
        except (ValueError, yaml.YAMLError) as exc:
            errors.append(_bad(spec, str(exc).splitlines()[0], "paths look like a.b[0].c; quote text values"))
            continue
        if not path or not isinstance(path[0], str):
            errors.append(_bad(spec, "the path must start with a top-level key", "e.g. --set vars.d_model=256"))
            continue
        problem = _assign(document.data, path, value)
        if problem:
            errors.append(_bad(spec, problem, "check the path against the manifest (caramba validate shows field paths)"))
            continue
        document.positions[path] = Position("--set")
    if errors:
        raise ManifestInvalid(errors)


def _value(raw: str) -> Any:
    """The YAML value of an override, through the manifest reader's own limits (size, depth,
    node count, huge integers), so no value can crash the parser."""
    if not raw.strip():
        return ""
    if len(raw) > MAX_SET_CHARS:
        raise ValueError(f"the value is {len(raw)} characters; an override holds at most {MAX_SET_CHARS}")
    try:
        return load_value(_flow(raw), "--set")
    except ManifestInvalid as exc:
        raise ValueError(exc.errors[0].message) from None


def _flow(raw: str) -> str:
    """Guard the depth before PyYAML's recursive parser sees the text (it recurses per bracket)."""
    depth = deepest = 0
    for char in raw:
        depth += (char in "[{") - (char in "]}")
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise ValueError(f"the value nests {deepest} levels deep; the limit is {MAX_DEPTH}")
    return raw


def _assign(data: Any, path: tuple[object, ...], value: Any) -> str | None:
    """Set ``data[path] = value``; return a message when the path cannot be followed."""
    node = data
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        where = format_path(path[:depth]) or "the document"
        if isinstance(part, int):
            if not isinstance(node, list):
                return f"{where} is not a list, cannot index [{part}]"
            if not -len(node) <= part < len(node):
                return f"index [{part}] is out of range: {where} has {len(node)} items"
        elif not isinstance(node, dict):
            return f"{where} is a {type(node).__name__}, not a mapping; cannot set .{part}"
        if last:
            node[part] = value
            return None
        if isinstance(node, dict) and part not in node:
            node[part] = [] if isinstance(path[depth + 1], int) else {}
        node = node[part]
    return None
