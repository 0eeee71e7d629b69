"""Load an agents' YAML file (persona, model script) into a strict pydantic model.

Validated the way manifests are (see :mod:`caramba.engine.compiler.strict`); a problem
other than an unknown key points to the file's format in docs/agents.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from caramba.engine.compiler.strict import load_strict as _load_strict

M = TypeVar("M", bound=BaseModel)


def load_strict(model: type[M], path: Path, what: str) -> M:
    """Parse ``path`` and validate it as ``model`` (a ``what`` file); raise ``ManifestInvalid`` with every error."""
    return _load_strict(model, path, f"see the {what} format in docs/agents.md")
