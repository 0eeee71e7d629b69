"""``extends: <preset or path>``: start a manifest from another one and override parts.

The base is a preset name (``caramba presets`` lists them) or a YAML path relative to the
extending file. Merging is deep: mappings merge key by key; lists of mappings whose items
all carry a ``name`` (targets) or an ``id`` (runs, benchmarks) merge item by item on that
key (new items are appended); any other value, including other lists, is replaced.
Chains of ``extends`` are followed; a cycle is an error.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from caramba.engine.compiler.errors import ManifestError, ManifestInvalid
from caramba.engine.compiler.source import Document, load

PRESETS_DIR = FsPath(__file__).resolve().parents[2] / "presets"


def preset_path(name: str) -> FsPath | None:
    """The file of preset ``name`` (with or without ``.yml``), or None."""
    stem = name[:-4] if name.endswith(".yml") else name
    path = PRESETS_DIR / f"{stem}.yml"
    return path if path.is_file() else None


def preset_names() -> list[str]:
    """Every preset name, sorted."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yml"))


def _locate(spec: Any, document: Document) -> FsPath:
    def fail(message: str, hint: str) -> ManifestInvalid:
        pos = document.position(("extends",))
        return ManifestInvalid([ManifestError("references", "extends", message, hint, pos.file, pos.line, pos.column)])

    if not isinstance(spec, str) or not spec.strip():
        raise fail("extends must name a preset or a manifest path", "e.g. extends: standard_transformer")
    looks_like_path = "/" in spec or spec.endswith((".yml", ".yaml")) and not preset_path(spec)
    if looks_like_path:
        base_dir = FsPath(document.file).parent if document.file not in ("<text>", "--set") else FsPath.cwd()
        path = (base_dir / spec).resolve()
        if not path.is_file():
            raise fail(f"extends: {spec!r} does not exist (looked at {path})", "give a path relative to this manifest, or a preset name")
        return path
    found = preset_path(spec)
    if found is None:
        import difflib

        close = difflib.get_close_matches(spec, preset_names(), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}?" if close else f"presets: {', '.join(preset_names())}"
        raise fail(f"unknown preset {spec!r}", hint)
    return found


def resolve_extends(document: Document, chain: tuple[str, ...] = ()) -> Document:
    """Return ``document`` merged over its base chain (``extends`` removed)."""
    if "extends" not in document.data:
        return document
    path = _locate(document.data["extends"], document)
    if str(path) in chain:
        raise ManifestInvalid([ManifestError("references", "extends", f"extends cycle: {' → '.join([*chain, str(path)])}",
                                             "remove the circular extends", document.file)])
    base = resolve_extends(load(path.read_bytes(), str(path)), (*chain, document.file, str(path)))
    child = {k: v for k, v in document.data.items() if k != "extends"}
    merged = merge(base.data, child)
    return Document(merged, {**base.positions, **document.positions}, document.file)


def merge(base: Any, override: Any) -> Any:
    """Deep-merge ``override`` onto ``base`` (see the module docstring for the rules)."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(override, list):
        key = _merge_key(base) if _merge_key(base) == _merge_key(override) else None
        if key:
            out = list(base)
            index = {item[key]: i for i, item in enumerate(base)}
            for item in override:
                if item[key] in index:
                    out[index[item[key]]] = merge(base[index[item[key]]], item)
                else:
                    out.append(item)
            return out
    return override


def _merge_key(items: list[Any]) -> str | None:
    for key in ("name", "id"):
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            return key
    return None
