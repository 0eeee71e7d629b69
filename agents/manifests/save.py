"""Save a manifest where it runs: relative file paths rewritten, compiled again there.

An agent writes a manifest against the workspace (``data.npy`` means the workspace's
file) but a process saves it in its session folder, and manifest paths resolve against
the manifest's own folder. :func:`save_runnable` therefore rewrites every relative file
path (:data:`PATH_KEYS`, the keys the MCP front treats as local files) to reach the
same file from the saved location, writes the file, and compiles it there; a manifest
that does not compile where it is saved is removed again and its errors returned.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from caramba.engine.store.atomic import write_text

PATH_KEYS = frozenset({"path", "teacher_ckpt"})
NOT_LOCAL = ("hf://", "http://", "https://")


def save_runnable(manifest: str, file: Path, workspace: Path) -> list[dict[str, Any]]:
    """Write ``manifest`` at ``file`` with its paths rewritten; the errors of compiling it there."""
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.compiler.errors import ManifestInvalid

    document = yaml.safe_load(manifest)
    changed = rewrite_paths(document, file.parent, workspace)
    write_text(file, yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120) if changed else manifest)
    try:
        compile_manifest(str(file), [])
    except ManifestInvalid as exc:
        file.unlink()
        return [{"path": e.path, "line": e.line, "message": f"saved as {file.name}: {e.message}", "hint": e.hint}
                for e in exc.errors]
    return []


def rewrite_paths(node: Any, folder: Path, workspace: Path) -> bool:
    """Rewrite relative file paths in place (see the module docstring); True if any changed."""
    changed = False
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in list(items):
        if key in PATH_KEYS and isinstance(value, str) and value and not value.startswith(NOT_LOCAL) \
                and "${" not in value and not os.path.isabs(value):
            node[key] = os.path.relpath(workspace / value, folder)
            changed = True
        elif isinstance(value, (dict, list)):
            changed = rewrite_paths(value, folder, workspace) or changed
    return changed
