"""Save a manifest where it runs: path fields rewritten, compiled again there.

An agent writes a manifest against the workspace (``data.npy`` means the workspace's
file) but a process saves it in its session folder, and a manifest file's paths resolve
against its own folder. :func:`save_runnable` compiles the text for the workspace,
takes every path field the schema declares (the workspace-path type,
:func:`caramba.engine.compiler.paths.path_fields`, resolved there to the file it
names) and rewrites the value written in the document to reach the same file from the
saved location; then it writes the file and compiles it where it is, for the workspace
(files checked). A manifest that does not compile there is removed again and its errors
returned.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from caramba.engine.store.atomic import write_text


def save_runnable(manifest: str, file: Path, workspace: Path) -> list[dict[str, Any]]:
    """Write ``manifest`` at ``file`` with its paths rewritten; the errors of compiling it there."""
    from caramba.engine.compiler import check, compile_manifest
    from caramba.engine.compiler.errors import ManifestInvalid

    document = yaml.safe_load(manifest)
    compiled = check(manifest, (), workspace).compiled
    changed = compiled is not None and rewrite_paths(document, compiled, file.parent)
    write_text(file, yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120) if changed else manifest)
    try:
        compile_manifest(str(file), [], workspace)
    except ManifestInvalid as exc:
        file.unlink()
        return [{"path": e.path, "line": e.line, "message": f"saved as {file.name}: {e.message}", "hint": e.hint}
                for e in exc.errors]
    return []


def rewrite_paths(document: Any, compiled: Any, folder: Path) -> bool:
    """Point each relative path value of ``document`` at its resolved file from ``folder``."""
    from caramba.engine.compiler.paths import path_fields

    changed = False
    for where, spec, value, _, _ in path_fields(compiled.manifest):
        if spec.kind == "run_folder" or not spec.is_path(value) or not os.path.isabs(value):
            continue
        node = document
        for part in where[:-1]:
            node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
        written = node.get(where[-1]) if isinstance(node, dict) else None
        if isinstance(written, str) and "${" not in written and not os.path.isabs(written):
            node[where[-1]] = os.path.relpath(value, folder.resolve())  # type: ignore[index]
            changed = True
    return changed


def _has(node: dict[Any, Any] | list[Any], part: object) -> bool:
    return part in node if isinstance(node, dict) else isinstance(part, int) and 0 <= part < len(node)
