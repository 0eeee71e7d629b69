"""The schema stage: validate plain data against :class:`Manifest` and translate pydantic's
errors into :class:`ManifestError` records with positions, did-you-mean and fix hints."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from caramba.engine.compiler.errors import ManifestError, format_path
from caramba.engine.compiler.source import Document, Path
from caramba.engine.manifest import Manifest

REMOVED_KEYS = {
    "compile_model": "torch.compile is chosen by capability detection (logged at start-up), never by a flag; remove this key",
    "orchestrator_enabled": "the original project's training orchestrator is not part of caramba; remove this key",
    "orchestrator_decision_interval": "the original project's training orchestrator is not part of caramba; remove this key",
    "orchestrator_initial_strategy": "the original project's training orchestrator is not part of caramba; remove this key",
    "orchestrator_use_adagc": "the original project's training orchestrator is not part of caramba; remove this key",
    "pin_memory": "batches are pinned automatically on CUDA (the fast path, logged at start-up); remove this key",
    "num_workers": "batches are a pure function of (seed, split, step), sampled in the training process; remove this key",
    "cache_teacher_outputs": "the teacher cache is a trainer.upcycle setting: move it to trainer.config.cache_teacher_outputs",
}
TYPE_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "string": "text", "str": "text",
              "list": "a list", "dict": "a mapping", "model": "a mapping"}


def validate_schema(document: Document, data: dict[str, Any]) -> tuple[Manifest | None, list[ManifestError]]:
    """Validate ``data`` (substituted) as a Manifest; positions come from ``document``."""
    try:
        return Manifest.model_validate(data), []
    except ValidationError as exc:
        return None, _merge_typos([_translate(document, data, err) for err in exc.errors(include_url=False)])


def _merge_typos(errors: list[ManifestError]) -> list[ManifestError]:
    """A typo shows as 'missing X' plus 'unknown key X′' under one parent: keep one error."""
    unknown = {e.path: e for e in errors if e.message.startswith("unknown key")}
    out: list[ManifestError] = []
    for error in errors:
        if error.message.startswith("missing required field"):
            parent, _, name = error.path.rpartition(".")
            typo = next((u for p, u in unknown.items() if p.rpartition(".")[0] == parent
                         and difflib.get_close_matches(name, [p.rpartition(".")[2]], cutoff=0.6)), None)
            if typo is not None:
                continue
        out.append(error)
    return out


def _real_path(data: Any, loc: tuple[Any, ...]) -> Path:
    """Drop the union-tag segments pydantic inserts into ``loc`` (they are not in the data)."""
    path: list[object] = []
    node = data
    tagged: int | None = None  # id of the dict whose union tag was skipped already
    for part in loc:
        if isinstance(node, dict) and part in (node.get("type"), node.get("ref")) and tagged != id(node):
            # pydantic puts a union's tag first, before the field: `type: process` also has a
            # `process` key, so the first `process` is the tag and the second the key
            tagged = id(node)
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and not _is_tag(node, part):
            path.append(part)  # a missing or extra key: the error is about this key
            node = None
    return tuple(path)


def _is_tag(node: dict[str, Any], part: str) -> bool:
    return part in (node.get("type"), node.get("ref")) or part.startswith(("function-", "tagged-union", "union["))


def _translate(document: Document, data: dict[str, Any], err: dict[str, Any]) -> ManifestError:
    path = _real_path(data, err["loc"])
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    stage, message, hint = "schema", err["msg"], "see `caramba schema` for the expected shape"
    field = path[-1] if path else ""
    if kind == "extra_forbidden":
        known = _known_fields(data, path[:-1])
        close = difflib.get_close_matches(str(field), known, n=3, cutoff=0.6)
        message = f"unknown key {field!r}"
        if field in REMOVED_KEYS:
            hint = REMOVED_KEYS[str(field)]
        elif close:
            hint = f"did you mean {' or '.join(repr(c) for c in close)}?"
        else:
            hint = f"remove it; valid keys here: {', '.join(known)}" if known else "remove it"
    elif kind == "missing":
        message = f"missing required field {field!r}"
        hint = f"add {field}: {_describe(data, path)}"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        stage = "references"
        tag = str(ctx.get("discriminator", "'type'")).strip("'")
        path = (*path, tag)
        expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        got = ctx.get("tag")
        if kind == "union_tag_not_found":
            message, hint = f"missing {tag!r}", f"add {tag}: one of {', '.join(expected)}"
        else:
            close = difflib.get_close_matches(str(got), expected, n=3, cutoff=0.5)
            message = f"unknown {tag} {got!r}"
            hint = (f"did you mean {' or '.join(repr(c) for c in close)}? " if close else "") + f"valid: {', '.join(expected)}"
    elif kind == "literal_error":
        expected = [t.strip(" '") for t in str(ctx.get("expected", "")).replace(" or ", ",").split(",") if t.strip()]
        close = difflib.get_close_matches(str(value), expected, n=3, cutoff=0.5)
        stage = "references" if field in ("type", "ref") else "schema"
        message = f"{value!r} is not allowed here; expected one of {', '.join(expected)}"
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(expected)}"
    elif kind.endswith(("_type", "_parsing")):
        want = TYPE_WORDS.get(kind.split("_")[0], kind.split("_")[0])
        message = f"expected {want}, got {value!r} ({type(value).__name__})"
        hint = f"write {field} as {want}" + (f" ({_describe(data, path)})" if _describe(data, path) != "<value>" else "")
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_short", "string_pattern_mismatch", "too_long"):
        message = f"{err['msg'].rstrip('.')}, got {value!r}"
        hint = f"{field}: {_describe(data, path)}"
    pos = document.position(path)
    return ManifestError(stage, format_path(path), message, hint, pos.file, pos.line, pos.column)


def _model_at(data: Any, path: Path) -> tuple[type[BaseModel] | None, str | None]:
    """Walk the Manifest model along ``path`` (choosing union members by the data's tags)."""
    annotation: Any = Manifest
    node, name = data, None
    for part in path:
        annotation = _pick(annotation, node)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return None, None
            annotation, name = info.annotation, info.description
        else:
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
        node = node.get(part) if isinstance(node, dict) else node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None
    model = _pick(annotation, node)
    return (model if isinstance(model, type) and issubclass(model, BaseModel) else None), name


def _pick(annotation: Any, node: Any) -> Any:
    """Unwrap Annotated/Optional/unions to the member matching ``node``'s type/ref tag."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    members = [m for m in typing.get_args(annotation) if m is not type(None)] if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType")) else [annotation]
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(members) == 1:
        return members[0]
    if isinstance(node, dict):
        for model in models:
            for tag in ("type", "ref"):
                field = model.model_fields.get(tag)
                if field is not None and node.get(tag) in typing.get_args(field.annotation):
                    return model
    if isinstance(node, str):
        # `task: task.language_modeling` shorthand
        for model in models:
            field = model.model_fields.get("ref")
            if field is not None and node in typing.get_args(field.annotation):
                return model
    return models[0] if len(models) == 1 else annotation


def _known_fields(data: Any, path: Path) -> list[str]:
    model, _ = _model_at(data, path)
    return list(model.model_fields) if model else []


def _describe(data: Any, path: Path) -> str:
    if not path:
        return "<value>"
    parent, _ = _model_at(data, path[:-1])
    info = parent.model_fields.get(str(path[-1])) if parent else None
    return f"<{info.description}>" if info is not None and info.description else "<value>"
