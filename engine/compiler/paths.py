"""``resolve_paths``: the one function that turns a manifest's path fields into files.

Every field typed with a :class:`~caramba.engine.manifest.paths.PathSpec` (see
``engine/manifest/paths.py`` for the rules) is found by walking the validated manifest,
resolved against its base folder, confined to the workspace (or a ``data_roots`` entry of
``caramba.yml``) and checked for existence — unless a run of the manifest writes it (an
``output`` field such as ``runs[].export_hf`` names the same folder). The run uses the resolved absolute paths:
:func:`bind` writes them into the manifest's models in place.
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel

from caramba.engine.compiler.checks import Issue
from caramba.engine.manifest.paths import PathSpec

FieldPath = tuple[object, ...]


@dataclass(frozen=True)
class Roots:
    """Where paths may point: the workspace and the extra data roots of ``caramba.yml``."""

    workspace: Path
    data_roots: tuple[Path, ...] = ()

    def allows(self, path: Path) -> bool:
        """True when ``path`` (already resolved) lies inside the workspace or a data root."""
        return any(path.is_relative_to(root) for root in (self.workspace, *self.data_roots))

    def describe(self) -> str:
        """The allowed roots, for messages."""
        extra = f" or the data roots {', '.join(map(str, self.data_roots))}" if self.data_roots else ""
        return f"the workspace {self.workspace}{extra}"


def path_spec(annotation: Any) -> PathSpec | None:
    """The :class:`PathSpec` carried by a field annotation (through Optional and list), if any."""
    if typing.get_origin(annotation) is typing.Annotated:
        found = next((m for m in typing.get_args(annotation)[1:] if isinstance(m, PathSpec)), None)
        return found or path_spec(typing.get_args(annotation)[0])
    for arg in typing.get_args(annotation):
        found = path_spec(arg)
        if found is not None:
            return found
    return None


def field_spec(info: Any) -> PathSpec | None:
    """The :class:`PathSpec` of a pydantic field (pydantic moves a bare ``Annotated``'s
    metadata onto the field; nested in Optional or list it stays in the annotation)."""
    found = next((m for m in info.metadata if isinstance(m, PathSpec)), None)
    return found or path_spec(info.annotation)


def path_fields(node: Any, where: FieldPath = ()) -> Iterator[tuple[FieldPath, PathSpec, str, Any, object]]:
    """``(field path, spec, value, owner, key)`` of every path value set in a validated manifest;
    ``owner[key]`` (a model attribute or a list index) holds the value."""
    if isinstance(node, BaseModel):
        for name, info in type(node).model_fields.items():
            value = getattr(node, name)
            spec = field_spec(info)
            if spec is not None and isinstance(value, str):
                yield (*where, name), spec, value, node, name
            elif spec is not None and isinstance(value, list):
                yield from (((*where, name, i), spec, v, value, i) for i, v in enumerate(value) if isinstance(v, str))
            else:
                yield from path_fields(value, (*where, name))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from path_fields(item, (*where, index))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from path_fields(item, (*where, key))


def resolve_one(value: str, spec: PathSpec, base: Path, roots: Roots,
                produced: frozenset[Path] = frozenset()) -> tuple[Path | None, str | None, str | None]:
    """``(resolved path, problem, hint)`` for one path value (problem None: fine).

    ``produced`` holds the folders runs of the manifest write (``output`` fields): an input
    naming one of them need not exist yet.
    """
    if spec.kind == "run_folder":
        parts = Path(value).parts
        if os.path.isabs(value) or ".." in parts or value.startswith("~") or not value.strip():
            return None, f"{value!r} must be a folder name inside the run directory", "use a relative name such as `paper` (no `..`, not absolute)"
        return None, None, None
    resolved = (base / value).resolve()
    tilde = " (`~` is not expanded: it is read as a folder named ~)" if value.startswith("~") else ""
    if not roots.allows(resolved):
        return resolved, f"{value!r} resolves to {resolved}, outside {roots.describe()}{tilde}", \
            "keep data inside the workspace, or add its folder to data_roots in caramba.yml"
    if spec.kind == "output":
        if resolved.is_file():
            return resolved, f"{value!r}: {resolved} is a file, and the run writes a folder there", \
                "name a folder (new or one this run wrote before)"
        return resolved, None, None
    exists = {"file": resolved.is_file, "dir": resolved.is_dir, "any": resolved.exists}[spec.kind]()
    if not exists and resolved in produced:
        return resolved, None, None
    if not exists:
        what = {"file": "file", "dir": "folder", "any": "file or folder"}[spec.kind]
        other = " (it is a folder)" if spec.kind == "file" and resolved.is_dir() else \
            " (it is a file)" if spec.kind == "dir" and resolved.is_file() else ""
        make = spec.hint.format(name=value) + "; or " if spec.hint else "create it, or "
        return resolved, f"{value!r}: no {what} at {resolved}{other}{tilde}", \
            f"{make}fix the path (relative paths resolve against {base})"
    return resolved, None, None


def resolve_paths(manifest: BaseModel, base: Path, roots: Roots) -> tuple[dict[FieldPath, Path], list[Issue]]:
    """Resolve every path field of ``manifest`` (see the module docstring)."""
    resolved: dict[FieldPath, Path] = {}
    issues: list[Issue] = []
    fields = list(path_fields(manifest))
    produced = frozenset((base / value).resolve() for _, spec, value, _, _ in fields if spec.kind == "output")
    for where, spec, value, _, _ in fields:
        if not spec.is_path(value):
            continue
        path, problem, hint = resolve_one(value, spec, base, roots, produced)
        if problem is not None:
            issues.append(Issue(where, problem, hint or ""))
        elif path is not None:
            resolved[where] = path
    return resolved, issues


def bind(manifest: BaseModel, resolved: dict[FieldPath, Path]) -> None:
    """Write each resolved absolute path into ``manifest`` in place (what the run reads)."""
    for where, _, _, owner, key in list(path_fields(manifest)):
        if where in resolved:
            if isinstance(owner, list):
                owner[key] = str(resolved[where])  # type: ignore[index]
            else:
                setattr(owner, str(key), str(resolved[where]))
