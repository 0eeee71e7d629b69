"""Semantic checks that run after the schema: dimensions, runs, comparability.

Each check is a function ``(manifest) -> list[Issue]`` where an issue is a field path
tuple, a message and a hint; the compiler attaches positions and the stage name.
"""

from __future__ import annotations

from typing import NamedTuple


class Issue(NamedTuple):
    """A semantic problem at a manifest field path."""

    path: tuple[object, ...]
    message: str
    hint: str
