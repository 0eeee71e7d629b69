"""Workspace confinement: every path a tool touches stays inside the workspace.

The MCP server may be driven by an LLM that was handed untrusted text, so nothing it
sends is trusted:

* a path argument is resolved (``..`` and symlinks followed) and refused unless the
  result lies inside the workspace root;
* a manifest may not reach outside either: ``extends:`` chains are checked here, every
  path field by the compiler (the workspace-path type, ``engine/compiler/paths.py``);
* ``python:module:Symbol`` references (arbitrary code) are refused unless the module
  starts with a prefix in ``python_allowlist`` of ``caramba.yml``.

Refusals of arguments raise :class:`ToolError` (the call fails with the message);
problems inside a manifest are returned as :class:`ManifestError` records so that
``validate_manifest`` can report them like any other manifest error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from mcp.server.mcpserver.exceptions import ToolError

from caramba.engine.compiler import Compiled
from caramba.engine.compiler.errors import ManifestError, ManifestInvalid, format_path
from caramba.engine.compiler.extends import preset_path
from caramba.engine.compiler.source import Document, load
from caramba.workspace.config import WorkspaceConfig, load_workspace



@dataclass(frozen=True)
class Workspace:
    """The workspace root (resolved) and its ``caramba.yml`` settings."""

    root: Path
    config: WorkspaceConfig

    @classmethod
    def open(cls, root: Path) -> "Workspace":
        """Read ``<root>/caramba.yml`` (defaults when absent) for ``root``."""
        root = root.resolve()
        return cls(root, load_workspace(root))

    def inside(self, path: Path) -> bool:
        """True when ``path`` (resolved, symlinks followed) lies inside the workspace."""
        return path.resolve().is_relative_to(self.root)

    def path(self, user_path: str, what: str = "path") -> Path:
        """Resolve a path argument against the root; refuse anything outside it."""
        if not user_path.strip():
            raise ToolError(f"the {what} is empty; give a path relative to the workspace {self.root}")
        resolved = (self.root / user_path).resolve()
        if not resolved.is_relative_to(self.root):
            raise ToolError(f"refused: the {what} {user_path!r} resolves to {resolved}, outside the workspace "
                            f"{self.root}; give a path inside the workspace (symlinks are followed)")
        return resolved

    def manifest_source(self, manifest: str) -> str:
        """A ``manifest`` argument → what the compiler reads: YAML text, a preset file, or a
        confined workspace path."""
        text = manifest.strip()
        if "\n" in text or ":" in text and not text.endswith((".yml", ".yaml")):
            return manifest
        found = preset_file(text)
        if found is not None:
            return str(found)
        path = self.path(text, "manifest path")
        if not path.is_file():
            raise ToolError(f"manifest file {text!r} does not exist in the workspace {self.root}; pass YAML text, "
                            "a workspace-relative .yml path, or a preset name (list_presets)")
        return str(path)


def document_of(source: str) -> Document | None:
    """Parse ``source`` (file path or text) without extends; None when it is not YAML."""
    raw: bytes | str = Path(source).read_bytes() if source.endswith((".yml", ".yaml")) and "\n" not in source else source
    file = source if isinstance(raw, bytes) else "<text>"
    try:
        return load(raw, file)
    except ManifestInvalid:
        return None


def extends_errors(ws: Workspace, document: Document) -> list[ManifestError]:
    """Follow the ``extends:`` chain; refuse a link that leaves the workspace."""
    errors: list[ManifestError] = []
    seen: set[str] = set()
    while isinstance(spec := document.data.get("extends"), str) and ("/" in spec or preset_path(spec) is None):
        base = Path(document.file).parent if document.file != "<text>" else ws.root
        target = (base / spec).resolve()
        if not ws.inside(target) and not _is_preset(target):
            pos = document.position(("extends",))
            errors.append(ManifestError("references", "extends", f"extends {spec!r} resolves to {target}, outside the workspace {ws.root}",
                                        "extend a preset or a manifest inside the workspace", pos.file, pos.line, pos.column))
            break
        if str(target) in seen or not target.is_file():
            break  # the compiler reports cycles and missing files itself
        seen.add(str(target))
        document = load(target.read_bytes(), str(target))
    return errors


def python_ref_errors(ws: Workspace, document: Document) -> list[ManifestError]:
    """Every ``python:module:Symbol`` string whose module is not allow-listed."""
    allowed = ws.config.python_allowlist
    errors = []
    for path, value in walk(document.data):
        if isinstance(value, str) and value.startswith("python:"):
            module = value.removeprefix("python:").split(":", 1)[0]
            if not any(module == p or module.startswith(p.rstrip(".") + ".") for p in allowed):
                pos = document.position(path)
                hint = (f"allowed module prefixes: {', '.join(allowed)}" if allowed else
                        "no python: references are allowed here; add the module prefix to python_allowlist in caramba.yml")
                errors.append(ManifestError("references", format_path(path), f"refused python reference {value!r}: "
                                            f"module {module!r} is not in the workspace's python_allowlist", hint,
                                            pos.file, pos.line, pos.column))
    return errors


def walk(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Depth-first ``(path, value)`` over every leaf of nested dicts and lists."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*path, index))
    else:
        yield path, data


def relocate(compiled: Compiled, new_dir: Path) -> dict[str, Any]:
    """The resolved manifest of ``compiled`` rewritten for ``new_dir``: every path field (the
    schema's workspace-path type; resolved and confined at validation, absolute in the bound
    manifest) becomes relative to ``new_dir``, so the copy names the same files."""
    import copy

    from caramba.engine.compiler.paths import path_fields

    out = copy.deepcopy(compiled.resolved)
    for where, spec, value, _, _ in path_fields(compiled.manifest):
        if spec.kind == "run_folder" or not spec.is_path(value) or not os.path.isabs(value):
            continue
        node: Any = out
        for part in where[:-1]:
            node = node[part]
        node[where[-1]] = os.path.relpath(value, new_dir.resolve())
    return out


def preset_file(name: str) -> Path | None:
    """The file of preset ``name``, only for names that ``list_presets`` shows (a name can
    never step out of the presets folder)."""
    from caramba.engine.compiler.extends import preset_names

    stem = name[:-4] if name.endswith(".yml") else name
    return preset_path(stem) if stem in preset_names() else None


def _is_preset(path: Path) -> bool:
    found = preset_path(path.stem)
    return found is not None and found.resolve() == path
