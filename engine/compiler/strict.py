"""Load a YAML file into a strict pydantic model, reporting errors like a manifest.

Settings files other than manifests (the workspace's ``caramba.yml``, persona files,
model scripts) are validated the way manifests are: every problem at once, each with the
file, line, column and field path, an unknown key answered with a did-you-mean and the
valid keys. The errors are :class:`~caramba.engine.compiler.errors.ManifestInvalid`, so
they render exactly like ``caramba validate`` output.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from caramba.engine.compiler.errors import ManifestError, ManifestInvalid
from caramba.engine.compiler.source import load

M = TypeVar("M", bound=BaseModel)


def load_strict(model: type[M], path: Path, hint: str) -> M:
    """Parse ``path`` and validate it as ``model``; raise ``ManifestInvalid`` with every error.

    ``hint`` is how to fix an error other than an unknown key (say, where the format is
    documented); an unknown key's hint names the closest valid key.
    """
    document = load(path.read_bytes(), str(path))
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            pos = document.position(loc)
            errors.append(ManifestError("schema", ".".join(map(str, loc)), err["msg"], _hint(model, err, hint),
                                        str(path), pos.line, pos.column))
        raise ManifestInvalid(errors) from None


def _hint(model: type[BaseModel], err: Any, otherwise: str) -> str:
    """A did-you-mean for an unknown key, else ``otherwise``."""
    loc = err["loc"]
    if err["type"] == "extra_forbidden" and loc:
        fields = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
        if close:
            return f"did you mean {close[0]!r}? valid keys: {', '.join(fields)}"
        return f"valid keys: {', '.join(fields)}"
    return otherwise


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the (nested) model at ``loc``, best effort for hints only."""
    current: type[BaseModel] = model
    for part in loc:
        field = current.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            current = annotation
    return list(current.model_fields)
